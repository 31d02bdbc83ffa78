"""The in-process layer freezes the garbage collector at interpreter exit, so a run that loaded the Azure SDK does not
spend its last third of a second collecting the SDK's objects (the figure is in benchmarks/: lookup, pipeline)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.harness import ensure_collection_path

# An atexit handler registered before the import runs after the layer's own (last registered, first run): it sees
# what the interpreter's final collections will see.
PROBE = textwrap.dedent("""
    import atexit, gc, sys
    atexit.register(lambda: sys.stdout.write("frozen=%d\\n" % gc.get_freeze_count()))
    sys.path.insert(0, COLLECTIONS)
    from ansible_collections.goldenimage.azure.plugins.plugin_utils import _in_process
    assert _in_process.SDK_LOADED
""")


def test_objects_are_frozen_before_the_final_collections():
    code = PROBE.replace("COLLECTIONS", repr(ensure_collection_path()))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, PYTHONPATH=""))
    assert proc.returncode == 0, proc.stderr
    frozen = int(proc.stdout.strip().rsplit("frozen=", 1)[1])
    assert frozen > 50_000  # the SDK's objects (about 90,000), not a bare interpreter's (about 5,000)
