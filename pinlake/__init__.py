"""pinlake: a lakehouse for Pinterest-style posting events."""

__version__ = "0.1.0"
