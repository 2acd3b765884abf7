"""pinlake lakehouse/gold."""
