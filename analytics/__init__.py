"""Statistics and indicators computed from the grid database."""
