"""marketplace resource provider."""
