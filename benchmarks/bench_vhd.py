"""VHD upload: throughput and memory of disk_upload's transfer, against a plain page-PUT loop in the same run.

The VHD: 2 GiB sparse fixed VHD (``SIZE_MIB``), every third 4 MiB range non-zero (a third of the ranges hold
data), footer at the end. Uploaded to the simulator on loopback, ``THREADS`` (4, the module's default) writers.

- ``vhd.upload_mib_per_s`` (info): the VHD's size in MiB over the transfer's seconds (``upload.seconds`` of
  ``_vhd_upload.upload_vhd``: reading, hashing, zero detection and the page PUTs; not the ARM calls around it).
  The median over ``ROUNDS``.
- ``vhd.upload_peak_rss_mib`` (target <= 150): the peak resident memory of the process that runs the upload
  (``ru_maxrss`` from ``os.wait4``), the whole of it: Python, the Azure SDK, requests, the buffers. The upload
  runs as ``python benchmarks/bench_vhd.py upload ...`` in a child process so nothing else counts.
- ``vhd.upload_vs_raw_ratio`` (target >= 0.5): the raw loop's seconds over ours, per round, median. The raw loop
  is the least an upload must do: a fresh upload disk, a write SAS, then ``THREADS`` threads PUT the same
  non-zero ranges (one 4 MiB block from memory at each offset: no file, no hash, no zero test) with one requests
  session,
  to the SAS URL that ``beginGetAccess`` returned. Rounds alternate which of the two goes first.

Checked to fail: with the zero ranges sent too (``_vhd.pieces`` yielding every piece), the ratio fell to 0.17;
without the bound on pieces in flight (``_vhd_transfer._drain``), the peak RSS rose to 523 MiB. One writer
instead of four (``BENCH_VHD_THREADS=1``, our side only) still met the ratio (0.69): the simulator handles one
request at a time, so on loopback parallel writers mostly overlap reading with sending.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

MIB = 1024 * 1024
PIECE = 4 * MIB
SIZE_MIB = 2048
THREADS = 4
ROUNDS = 2
RG = "rg-bench-vhd"


def piece(index):
    """A non-zero 4 MiB piece that differs per index (a pseudo-random block, stamped)."""
    block = bytearray(_block())
    block[:8] = index.to_bytes(8, "big")
    return bytes(block)


def _block(_cache=[]):  # noqa: B006 - made once, only in the parent
    if not _cache:
        _cache.append(os.urandom(PIECE))
    return _cache[0]


def data_indexes():
    return [index for index in range(SIZE_MIB * MIB // PIECE) if index % 3 == 0]


def make_vhd(path):
    from tests.test_vhd_files import footer

    size = SIZE_MIB * MIB
    with open(path, "wb") as handle:
        handle.truncate(size)
        for index in data_indexes():
            handle.seek(index * PIECE)
            handle.write(piece(index))
        handle.seek(size)
        handle.write(footer(size))


# -- the child: our upload, alone in its process ------------------------------------------------------
def child_upload(src, name):
    from tests.harness import ensure_collection_path

    sys.path.insert(0, ensure_collection_path())
    from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureSession
    from ansible_collections.goldenimage.azure.plugins.module_utils._vhd_upload import upload_vhd

    session = AzureSession({})
    threads = int(os.environ.get("BENCH_VHD_THREADS") or THREADS)
    result = upload_vhd(session.compute(), RG, name, src, location="eastus", os_type="Linux", threads=threads,
                        verify=session.settings.ca_bundle or True)
    print(json.dumps(result["upload"]))


def ours(sim, src, name):
    """(transfer seconds, peak RSS MiB) of one upload in a child process."""
    env = dict(os.environ, **sim.env, PYTHONPATH=ROOT)
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "upload", src, name], env=env,
                                   stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        err = process.stderr.read().decode(errors="replace")
        out.seek(0)
        text = out.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"upload failed: {err[-2000:]}")
    upload = json.loads(text.strip().splitlines()[-1])
    return upload["seconds"], usage.ru_maxrss / 1024.0


def raw_loop(sim, compute, name, pieces):
    """Seconds of a plain parallel Put Page loop of ``pieces`` to a fresh upload disk's SAS URL."""
    import requests
    from requests.adapters import HTTPAdapter

    size = SIZE_MIB * MIB + 512
    compute.disks.begin_create_or_update(RG, name, {"location": "eastus", "properties": {
        "creationData": {"createOption": "Upload", "uploadSizeBytes": size}}}).result()
    sas = compute.disks.begin_grant_access(RG, name, {"access": "Write", "durationInSeconds": 3600}).result().access_sas
    session = requests.Session()
    session.mount("https://", HTTPAdapter(pool_maxsize=THREADS))

    def put(item):
        offset, data = item
        response = session.put(sas, params={"comp": "page"}, data=data, verify=sim.ca, headers={
            "x-ms-page-write": "update", "x-ms-range": f"bytes={offset}-{offset + len(data) - 1}"})
        response.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(put, pieces))
    seconds = time.perf_counter() - started
    compute.disks.begin_revoke_access(RG, name).result()
    return seconds


def run(sim):
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    compute = sim.client(ComputeManagementClient)
    sim.client(ResourceManagementClient).resource_groups.create_or_update(RG, {"location": "eastus"})
    work = tempfile.mkdtemp(prefix="bench-vhd-")
    src = os.path.join(work, "bench.vhd")
    try:
        make_vhd(src)
        # the same ranges as ours sends: the data pieces and the last piece (it holds the footer)
        with open(src, "rb") as handle:
            last = (SIZE_MIB * MIB) // PIECE
            handle.seek(last * PIECE)
            # one shared block: the loop's cost is the PUTs, not the bytes it sends (and 4 MiB, not 700, of memory)
            pieces = [(index * PIECE, _block()) for index in data_indexes()] + [(last * PIECE, handle.read())]
        ours_s, raw_s, rss = [], [], []
        for round_ in range(ROUNDS):
            order = ("ours", "raw") if round_ % 2 == 0 else ("raw", "ours")
            for side in order:
                name = f"{side}-{round_}"
                if side == "ours":
                    seconds, peak = ours(sim, src, name)
                    ours_s.append(seconds)
                    rss.append(peak)
                else:
                    raw_s.append(raw_loop(sim, compute, name, pieces))
                compute.disks.begin_delete(RG, name).result()  # its 700 MB of blob go with it
        del pieces
    finally:
        for name in os.listdir(work):
            os.unlink(os.path.join(work, name))
        os.rmdir(work)
    mib_per_s = statistics.median(SIZE_MIB / seconds for seconds in ours_s)
    ratio = statistics.median(raw / mine for raw, mine in zip(raw_s, ours_s))
    return [
        {"name": "vhd.upload_mib_per_s", "value": round(mib_per_s, 1), "unit": "MiB/s", "target": ""},
        {"name": "vhd.upload_peak_rss_mib", "value": round(max(rss), 1), "unit": "MiB", "target": "<= 150"},
        {"name": "vhd.upload_vs_raw_ratio", "value": round(ratio, 3), "unit": "ratio", "target": ">= 0.5"},
    ]


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "upload":
    child_upload(sys.argv[2], sys.argv[3])
