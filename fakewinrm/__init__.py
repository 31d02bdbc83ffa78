"""fakewinrm: a WinRS (WS-Management) test double with a simulated Windows guest, for the deprovision role's
Windows path. Not part of the collection artifact. See fakewinrm/README.md."""

from .server import FakeWinRM, WinRMApp
from .windows import FakeWindows, UNKNOWN_SCRIPT_RC

__all__ = ["FakeWinRM", "FakeWindows", "WinRMApp", "UNKNOWN_SCRIPT_RC"]
