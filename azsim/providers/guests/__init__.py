"""guests resource provider."""
