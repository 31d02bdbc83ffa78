"""Errors the command line turns into one clear message and a non-zero exit."""


class GuestError(Exception):
    """A guest could not be prepared, started, provisioned or stopped."""
