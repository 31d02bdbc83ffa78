"""fakewinrm: a WinRS (WS-Management) test double with a simulated Windows guest, for the deprovision role's
Windows path. Not part of the collection artifact. See fakewinrm/README.md."""

from .server import FakeWinRM, WinRMApp
from .windows import UNKNOWN_SCRIPT_RC, FakeWindows

__all__ = ["UNKNOWN_SCRIPT_RC", "FakeWinRM", "FakeWindows", "WinRMApp"]
