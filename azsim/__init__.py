"""azsim: a local HTTPS Azure Resource Manager simulator that the real Azure SDKs talk to unchanged."""

__version__ = "0.1.0"
