"""cases blueprint."""
