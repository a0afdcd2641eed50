"""Spatial building blocks: coordinate systems, H3 cells, areas and point-in-polygon."""
