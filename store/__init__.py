"""The embedded DuckDB database: schema, and how writers and readers share the file."""
