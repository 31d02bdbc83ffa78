"""gallery resource provider."""
