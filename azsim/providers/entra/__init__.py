"""entra resource provider."""
