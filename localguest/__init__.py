"""Real Debian 12 "Azure-like" guests for tests and the demo (see localguest/README.md).

    from localguest import guest, ensure_keypair
    key = ensure_keypair()
    with guest("g1", {"admin_username": "azureuser", "ssh_public_keys": [key.with_suffix(".pub").read_text()]}) as g:
        ...  # ssh to g.address:g.port as azureuser; read g.path("/etc/passwd") from the host
"""

from .errors import GuestError
from .guest import Guest, default_workdir, guest, list_guests, start_guest, stop_guest
from .inventory import inventory
from .rootfs import base_dir, cache_root, ensure_keypair, key_path, prepare

__all__ = [
    "Guest", "GuestError", "base_dir", "cache_root", "default_workdir", "ensure_keypair", "guest", "inventory",
    "key_path", "list_guests", "prepare", "start_guest", "stop_guest",
]
