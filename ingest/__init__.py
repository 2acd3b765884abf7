"""pinlake ingest."""
