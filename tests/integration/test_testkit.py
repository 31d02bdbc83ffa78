"""The test kit inside the repository: the seedable state formats (JSON Schemas), the pytest plugin's
fixtures, and the molecule scenario users copy (run from a copy outside the repository).

The wheel in a fresh venv: tests/packaging/test_wheel.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from azsim.core.schema import SchemaError, check, load_schema
from azsim.core.settings import DEFAULTS, SettingsError, load_file
from azsim.providers.marketplace.models import Catalog, CatalogError
from tests.harness import ROOT, ensure_collection_path

CATALOG = {
    "defaults": {"locations": ["eastus"], "properties": {"hyperVGeneration": "V2", "architecture": "x64",
                                                        "osDiskImage": {"operatingSystem": "Linux"}}},
    "publishers": {"Contoso": {"offers": {"linux": {"skus": {"base": {"versions": {
        "1.0.0": {}, "1.1.0": {"properties": {"hyperVGeneration": "V2"}}}}}}}}},
}
BAD_FIELD = 'publishers.Contoso.offers.linux.skus.base.versions["1.1.0"].properties.hyperVGeneration'


def _bad_catalog():
    bad = json.loads(json.dumps(CATALOG))
    bad["publishers"]["Contoso"]["offers"]["linux"]["skus"]["base"]["versions"]["1.1.0"]["properties"] = {
        "hyperVGeneration": 2}
    return bad


def _azsim(*args, cwd, timeout=60):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "azsim", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


# ------------------------------------------------------------------------------------------ state formats
def test_the_shipped_catalog_and_the_default_settings_match_their_schemas():
    with open(os.path.join(ROOT, "azsim", "data", "catalog.json"), encoding="utf-8") as handle:
        check("catalog", json.load(handle))
    check("settings", DEFAULTS)
    check("catalog", CATALOG)


def test_the_settings_schema_describes_every_setting():
    """A new setting must be added to azsim/schemas/settings.schema.json, or settings files refuse it."""
    schema = load_schema("settings")
    assert set(schema["properties"]) == set(DEFAULTS)
    for group in ("throttling", "rules", "auth"):
        assert set(schema["properties"][group]["properties"]) == set(DEFAULTS[group]), group


def test_a_bad_catalog_file_names_the_file_and_the_field(tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(_bad_catalog()))
    with pytest.raises(CatalogError) as info:
        Catalog.from_file(str(path))
    assert str(info.value).startswith(f"{path}: {BAD_FIELD}: expected string, got 2")
    served = _azsim("serve", "--port", "0", "--catalog", str(path), cwd=str(tmp_path))
    assert served.returncode == 2
    assert f"{path}: {BAD_FIELD}: expected string" in served.stderr


@pytest.mark.parametrize("body, field, expected", [
    ({"publishers": {"Contoso": {"offerz": {}}}}, "publishers.Contoso.offerz", "unknown key"),
    ({"publishers": {"Contoso": {}}}, "publishers.Contoso.offers", "required"),
    ({"publishers": {"Contoso": {"locations": "eastus", "offers": {}}}}, "publishers.Contoso.locations",
     "expected array"),
    ({"publishers": []}, "publishers", "expected object"),
])
def test_catalog_structure_errors_name_the_field(body, field, expected):
    with pytest.raises(SchemaError) as info:
        check("catalog", body, "seed.json")
    assert info.value.path == field
    assert str(info.value).startswith(f"seed.json: {field}: {expected}")


def test_a_catalog_missing_inherited_properties_names_the_version():
    body = {"publishers": {"Contoso": {"offers": {"x": {"skus": {"y": {"versions": {"1.0.0": {}}}}}}}}}
    with pytest.raises(CatalogError) as info:
        Catalog(body, source="seed.json")
    assert str(info.value).startswith(
        'seed.json: publishers.Contoso.offers.x.skus.y.versions["1.0.0"].properties.osDiskImage.operatingSystem:')


def test_the_admin_api_refuses_a_bad_catalog_with_the_field(fresh_sim):
    response = fresh_sim.admin.raw("POST", "catalog", _bad_catalog())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidCatalog"
    assert f"catalog: {BAD_FIELD}: expected string" in response.json()["error"]["message"]
    assert "Canonical" in fresh_sim.admin.get("catalog")["publishers"]


def test_a_bad_settings_file_names_the_file_and_the_field(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"time_scale": 0, "throttling": {"reads": {"capacity": "lots"}}}))
    with pytest.raises(SettingsError) as info:
        load_file(str(path))
    assert str(info.value).startswith(f"{path}: throttling.reads.capacity: expected number, got \"lots\"")
    served = _azsim("serve", "--port", "0", "--settings", str(path), cwd=str(tmp_path))
    assert served.returncode == 2 and "throttling.reads.capacity: expected number" in served.stderr
    path.write_text(json.dumps({"time_scal": 0}))
    with pytest.raises(SettingsError, match=r"time_scal: unknown key"):
        load_file(str(path))


def test_a_seeded_catalog_and_settings_are_served(tmp_path):
    from azsim.testing import SimServer

    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG))
    with SimServer(catalog=str(catalog), settings={"page_size": 1, "locations": ["eastus"]}) as server:
        assert server.admin.get("catalog") == CATALOG
        assert server.admin.settings()["page_size"] == 1


# ------------------------------------------------------------------------------------------ env
def test_env_outside_the_repository_fails_loudly_or_prints_a_working_serve_command(tmp_path):
    bad = _azsim("env", "--port", "0", cwd=str(tmp_path))
    assert bad.returncode == 2 and bad.stdout == "" and "--port" in bad.stderr
    env = _azsim("env", "--port", "18443", "--run-dir", str(tmp_path / "run"), cwd=str(tmp_path))
    assert env.returncode == 0, env.stderr
    assert f"PYTHONPATH={ROOT}" in env.stdout  # a checkout: the printed serve command finds the package anywhere


# ------------------------------------------------------------------------------------------ pytest plugin
PLUGIN_TEST = '''
import json

def test_world_is_fresh_and_faults_fire(azsim_world, azsim_faults, azsim_ansible_env):
    assert azsim_world.admin.resources() == []
    assert azsim_ansible_env["AZURE_SUBSCRIPTION_ID"] == azsim_world.subscription_id
    azsim_faults.add(method="GET", path="/resourcegroups$", status=503, times=1)
    import requests
    headers = {"Authorization": "Bearer " + azsim_world.credential().get_token(azsim_world.url + "/.default").token}
    url = azsim_world.url + "/subscriptions/" + azsim_world.subscription_id + "/resourcegroups?api-version=2021-04-01"
    assert requests.get(url, headers=headers, verify=azsim_world.ca).status_code == 503
    assert requests.get(url, headers=headers, verify=azsim_world.ca).status_code == 200
    assert [rule["fired"] for rule in azsim_faults.fired()] == [1]
    azsim_world.admin.post("catalog", {"publishers": {}})

def test_the_next_test_gets_the_starting_catalog_and_no_faults(azsim_world):
    assert azsim_world.admin.get("faults")["rules"] == []
    assert "Canonical" in azsim_world.admin.get("catalog")["publishers"]

def test_playbook_results(azsim_playbook, tmp_path):
    play = tmp_path / "play.yml"
    play.write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Facts
      goldenimage.azure.image_facts:
        location: eastus
        image: Canonical:ubuntu-24_04-lts:server:latest
""")
    run = azsim_playbook(play)
    assert run.rc == 0, run.stdout + run.stderr
    assert run.task("Facts")["result"]["images"][0]["version"] == "24.04.202411200"
    assert run.failed == []
'''


def test_the_plugin_fixtures_in_a_project_of_their_own(tmp_path):
    """The plugin loaded as pytest loads an installed one (-p, here without the wheel), in a temp project."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_user.py").write_text(textwrap.dedent(PLUGIN_TEST))
    env = dict(os.environ, PYTHONPATH=ROOT, ANSIBLE_COLLECTIONS_PATH=ensure_collection_path())
    env.pop("PYTEST_XDIST_WORKER", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "azsim.pytest_plugin", "-p", "no:cacheprovider",
                           "-q", "test_user.py"], cwd=str(project), env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "3 passed" in proc.stdout.splitlines()[-1]


# ------------------------------------------------------------------------------------------ molecule
@pytest.mark.guest
def test_the_molecule_scenario_users_copy_passes_from_a_copy(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the scenario starts real local guests: needs root")
    project = tmp_path / "my-images"
    shutil.copytree(os.path.join(ROOT, "examples", "testkit"), project)
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, PYTHONPATH=ROOT, ANSIBLE_COLLECTIONS_PATH=ensure_collection_path(),
               ANSIBLE_HOME=str(tmp_path / "ansible-home"), PATH=bindir + os.pathsep + os.environ["PATH"])
    for key in [key for key in env if key.startswith("MOLECULE_")] + ["ANSIBLE_PYTHON_INTERPRETER"]:
        env.pop(key, None)
    proc = subprocess.run([os.path.join(bindir, "molecule"), "test"], cwd=str(project), env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]


def test_the_walk_through_shows_the_example_as_it_is():
    """azsim/docs/testing-your-pipeline.md quotes examples/testkit: the quotes must not drift."""
    import re

    with open(os.path.join(ROOT, "azsim", "docs", "testing-your-pipeline.md"), encoding="utf-8") as handle:
        blocks = dict(re.findall(r"```(yaml|python)\n(.*?)```", handle.read(), re.S))
    example = os.path.join(ROOT, "examples", "testkit")
    with open(os.path.join(example, "pin-images.yml"), encoding="utf-8") as handle:
        assert blocks["yaml"] in handle.read()
    with open(os.path.join(example, "tests", "test_pin_images.py"), encoding="utf-8") as handle:
        assert blocks["python"] in handle.read()
