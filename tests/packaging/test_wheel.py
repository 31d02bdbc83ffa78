"""The test kit as a user gets it: the wheel from pyproject.toml in a fresh venv outside the repository.

One venv for the module: ``pip install`` of the built wheel, ansible-core, pytest and the collection's
requirements.txt (nothing from this checkout is on sys.path: no PYTHONPATH, every command runs in a temp
directory). The collection is the built Galaxy artifact, installed into a temp collections path.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from tests.harness import ROOT

pytestmark = pytest.mark.slow


def _clean_env(home, **extra):
    """os.environ without anything that would let this checkout leak in (PYTHONPATH, the repo venv, Ansible)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ANSIBLE_", "AZURE_", "AZSIM_", "MOLECULE_", "PYTEST_"))
           and key not in ("PYTHONPATH", "VIRTUAL_ENV", "REQUESTS_CA_BUNDLE", "GOLDENIMAGE_PUBLIC_ADDRESS_URL")}
    env["PATH"] = os.pathsep.join(item for item in env.get("PATH", "").split(os.pathsep)
                                  if not item.startswith(ROOT))
    env.update({"ANSIBLE_HOME": str(home / "ansible-home"), "AZSIM_TLS_DIR": str(home / "tls"), "HOME": str(home)},
               **extra)
    return env


def _run(argv, cwd, env, timeout=600, check=True, **kwargs):
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False,
                          **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f"{argv} -> {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """A fresh venv with the wheel installed, and the collection artifact installed beside it."""
    base = tmp_path_factory.mktemp("testkit")
    assert not str(base).startswith(ROOT)
    home = base / "home"
    home.mkdir()
    env = _clean_env(home)
    wheels = base / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), ROOT], base, env)
    (wheel,) = glob.glob(str(wheels / "*.whl"))
    venv = base / "venv"
    base_python = getattr(sys, "_base_executable", None) or shutil.which("python3.11") or "python3"
    _run([base_python, "-m", "venv", str(venv)], base, env)
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "-q", wheel, "ansible-core>=2.17", "pytest>=8.0",
          "-r", os.path.join(ROOT, "requirements.txt")], base, env)
    dist = base / "dist"
    _run([str(venv / "bin" / "ansible-galaxy"), "collection", "build", "--output-path", str(dist), ROOT], base, env)
    (artifact,) = glob.glob(str(dist / "goldenimage-azure-*.tar.gz"))
    collections = base / "collections"
    _run([str(venv / "bin" / "ansible-galaxy"), "collection", "install", "--offline", "-p", str(collections),
          artifact], base, env)
    work = base / "work"  # where the user runs things: no checkout anywhere above it
    work.mkdir()
    return {"base": base, "home": home, "venv": venv, "python": python, "bin": venv / "bin", "work": work,
            "collections": collections, "artifact": artifact, "wheel": wheel,
            "env": _clean_env(home, ANSIBLE_COLLECTIONS_PATH=str(collections),
                              PATH=str(venv / "bin") + os.pathsep + env["PATH"])}


def test_the_wheel_holds_the_three_packages_and_their_data(kit):
    import zipfile

    names = set(zipfile.ZipFile(kit["wheel"]).namelist())
    for expected in ("azsim/data/catalog.json", "azsim/schemas/catalog.schema.json", "azsim/schemas/settings.schema.json",
                     "azsim/docs/testing-your-pipeline.md", "azsim/pytest_plugin.py",
                     "azsim/ansible_callbacks/azsim_results.py", "localguest/cli.py", "fakewinrm/__main__.py"):
        assert expected in names
    entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(kit["wheel"]).read(entry_points).decode()
    assert "azsim = azsim.__main__:main" in text and "[pytest11]" in text
    assert not any(name.startswith(("tests/", "plugins/", "roles/")) or "__pycache__" in name for name in names)


def test_entry_points_work_from_any_directory(kit):
    env, work = kit["env"], kit["work"]
    for command in ("azsim", "localguest", "fakewinrm"):
        assert _run([str(kit["bin"] / command), "--help"], work, env).returncode == 0
    shell = _run(["bash", "-c", 'set -e; lines=$(azsim env --port 9443); eval "$lines"; '
                  'python -c "import json, os; print(json.dumps(dict(os.environ)))"'], work, env)
    exported = json.loads(shell.stdout)
    assert exported["AZURE_ARM_ENDPOINT"] == "https://127.0.0.1:9443/"
    assert exported["AZURE_SUBSCRIPTION_ID"]
    assert os.path.isfile(exported["REQUESTS_CA_BUNDLE"])  # exists before the first serve
    listed = _run([str(kit["bin"] / "azsim"), "env"], work, env).stdout
    assert f"# start the simulator these variables point at: {kit['bin'] / 'azsim'} serve --port 8443" in listed


def test_env_fails_loudly(kit):
    env, work = kit["env"], kit["work"]
    bad = _run([str(kit["bin"] / "azsim"), "env", "--port", "0"], work, env, check=False)
    assert bad.returncode == 2 and bad.stdout == "" and "--port" in bad.stderr
    settings = work / "bad-settings.json"
    settings.write_text(json.dumps({"rules": {"sku_changes_per_day": "two"}}))
    bad = _run([str(kit["bin"] / "azsim"), "env", "--settings", str(settings)], work, env, check=False)
    assert bad.returncode == 1 and bad.stdout == ""
    assert "rules.sku_changes_per_day: expected integer" in bad.stderr


@pytest.fixture
def served(kit, tmp_path):
    """``azsim serve`` of the venv, started from a temp directory; yields (port, ready info)."""
    ready = tmp_path / "ready.json"
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([str(kit["bin"] / "azsim"), "serve", "--port", "0", "--time-scale", "0",
                             "--run-dir", str(tmp_path / "run"), "--ready-file", str(ready)],
                            cwd=str(kit["work"]), env=kit["env"],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
        time.sleep(0.05)
    try:
        yield json.loads(ready.read_text())
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_serve_from_tmp_and_image_facts_with_the_installed_collection(kit, served, tmp_path):
    tree = tmp_path / "tree"
    shell = (f'set -e; lines=$(azsim env --port {served["port"]} --run-dir {tmp_path / "run"}); eval "$lines"; '
             f'ansible localhost -m goldenimage.azure.image_facts -t {tree} '
             """-a '{"location": "eastus", "images": ["Canonical:ubuntu-24_04-lts:server:latest"]}'""")
    proc = _run(["bash", "-c", shell], kit["work"], dict(kit["env"], ANSIBLE_NOCOLOR="1"), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads((tree / "localhost").read_text())
    assert [image["urn"] for image in result["images"]] == ["Canonical:ubuntu-24_04-lts:server:24.04.202411200"]
    # the module ran from the installed artifact, not from this checkout
    listed = _run([str(kit["bin"] / "ansible-galaxy"), "collection", "list", "goldenimage.azure", "--format", "json"],
                  kit["work"], kit["env"]).stdout
    assert list(json.loads(listed)) == [str(kit["collections"] / "ansible_collections")]
    from azsim.testing import AdminClient

    reads = AdminClient(served["url"], served["ca"], token=served["env"]["AZSIM_ADMIN_TOKEN"]).requests()
    assert any(item["path"].lower().endswith("/skus/server/versions") and item["status"] == 200 for item in reads)


def test_the_plugin_example_passes_outside_the_repository(kit, tmp_path):
    project = tmp_path / "my-pipeline"
    shutil.copytree(os.path.join(ROOT, "examples", "testkit"), project)
    report = tmp_path / "report.xml"
    proc = _run([kit["python"], "-m", "pytest", "tests", "-p", "no:cacheprovider", f"--junitxml={report}"],
                str(project), kit["env"], check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    suite = ET.parse(report).getroot().find("testsuite")
    assert int(suite.get("tests")) >= 4 and suite.get("failures") == "0" and suite.get("errors") == "0"
