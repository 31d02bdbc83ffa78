"""network resource provider."""
