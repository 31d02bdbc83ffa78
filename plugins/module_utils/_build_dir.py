# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: a build's controller directory, ``<build_dir>/<build_id>`` (its private SSH key, known_hosts, WinRM
certificate), found and removed without ever following a symlink or leaving ``build_dir``.

The builder makes it; the cleanup (``build_vm`` with ``state=absent``) and the sweep remove it. Plain values in.
"""

from __future__ import annotations

import os
import shutil


def build_directory(build_dir, build_id):
    """``<build_dir>/<build_id>`` when it is a real directory right inside ``build_dir``; else None.

    ``build_id`` was checked (no '/', no '..'); a symlink is never followed, whatever it points to."""
    if not build_dir:
        return None
    path = os.path.join(build_dir, build_id)
    if os.path.islink(path) or not os.path.isdir(path):
        return None
    if os.path.dirname(os.path.realpath(path)) != os.path.realpath(build_dir):
        return None
    return path


def remove_build_directory(build_dir, build_id, check_mode=False):
    """Remove the build's directory; the path removed (or, in check mode, to remove), None when there is none.

    Raises OSError when it cannot be removed."""
    path = build_directory(build_dir, build_id)
    if path and not check_mode:
        shutil.rmtree(path)
    return path


def remove_build_directory_of(build_dir, build_id, check_mode=False):
    """``remove_build_directory`` for a task result: ``{path, msg}``, ``msg`` naming why it could not be removed."""
    try:
        return {"path": remove_build_directory(build_dir, build_id, check_mode), "msg": None}
    except OSError as err:
        return {"path": None, "msg": f"the build directory {os.path.join(build_dir, build_id)} cannot be removed: {err}"}
