"""pinlake lakehouse/bronze."""
