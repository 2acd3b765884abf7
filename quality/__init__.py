"""pinlake quality."""
