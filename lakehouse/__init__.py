"""pinlake lakehouse."""
