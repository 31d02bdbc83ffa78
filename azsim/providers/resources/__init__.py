"""resources resource provider."""
