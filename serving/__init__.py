"""pinlake serving: DuckDB over the lakehouse's Delta tables, read-only."""
