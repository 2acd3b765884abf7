"""pinlake orchestration."""
