"""pinlake lakehouse/silver."""
