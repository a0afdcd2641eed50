"""Spatial building blocks: coordinate systems, H3 cells, jurisdictions and zones."""
