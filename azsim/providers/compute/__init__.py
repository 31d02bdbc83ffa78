"""compute resource provider."""
