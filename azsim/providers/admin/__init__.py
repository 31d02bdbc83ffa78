"""admin resource provider."""
