"""Errors the command line turns into one clear message and a non-zero exit."""


class GuestError(Exception):
    """A guest could not be prepared, started, provisioned or stopped."""


class ProvisioningSkipped(GuestError):
    """A reimaged guest's image says it is already provisioned: the agent skips provisioning (no new user)."""

    exit_code = 75  # EX_TEMPFAIL; the simulator maps it to OSProvisioningTimedOut
