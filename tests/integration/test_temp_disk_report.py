"""The temporary (resource) disk in build_vm, disk_tier and the build plan (issue 14 item 4), through
ansible-playbook against the simulator; the sizes' facts are the simulator's Resource SKUs (MaxResourceVolumeMB)."""

from __future__ import annotations

import json

from tests.guest import gi_build
from tests.integration import lifecycle_setup as setup
from tests.integration.test_build_vm import URN, _play, ssh_key  # noqa: F401 (fixture)

OUT = gi_build.OUTPUT_RG


def skus_reads(sim, since):
    return [r for r in setup.arm_requests(sim, since)
            if r["method"] == "GET" and r["path"].lower().endswith("/providers/microsoft.compute/skus")]


def build_vm(ssh_key, size, build_id):  # noqa: F811
    return _play(f"""
build_id: {build_id}
location: westeurope
image: {URN}
ssh_public_key: "{ssh_key}"
vm_size: {size}
wait_timeout: 120
""")


def test_build_vm_reports_the_sizes_temp_disk(play, fresh_sim, ssh_key):  # noqa: F811
    run = play(build_vm(ssh_key, "Standard_D2ds_v5", "td1"))
    assert run.rc == 0, run.stdout
    result = run.task("build")["result"]
    assert result["temp_disk"] == {"present": True, "size_mb": 76800}
    assert fresh_sim.admin.resource(result["vm_id"])["properties"]["hardwareProfile"]["vmSize"] == "Standard_D2ds_v5"

    since = fresh_sim.admin.last_seq()
    checked = play(_play(f"""
build_id: td2
location: westeurope
image: {URN}
ssh_public_key: "{ssh_key}"
vm_size: Standard_D2s_v5
""", check=True))
    assert checked.rc == 0, checked.stdout
    assert checked.task("build")["result"]["temp_disk"] == {"present": False, "size_mb": 0}
    assert len(skus_reads(fresh_sim, since)) == 1  # one Resource SKUs list, filtered to the location
    assert [r for r in setup.arm_requests(fresh_sim, since) if r["method"] != "GET"] == []


def test_disk_tier_reports_the_vms_temp_disk(play, fresh_sim, compute, network, resources):
    setup.make_vm(compute, network, resources, size="Standard_D2s_v5", os_disk_sku="Premium_LRS")
    run = play(f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: tier
      goldenimage.azure.disk_tier: {json.dumps({"vm": "build-vm", "resource_group": "rg-build", "tier": "P10"})}
""")
    assert run.rc == 0, run.stdout
    assert run.task("tier")["result"]["temp_disk"] == {"present": False, "size_mb": 0}


def plan(builds):
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: plan
      goldenimage.azure.build_plan: {json.dumps({"builds": builds})}
"""


def definition(name, vm_size, **extra):
    return dict({"name": name, "base_image": URN, "location": "westeurope", "vm_size": vm_size,
                 "managed_image": {"name": f"img-{name}", "resource_group": OUT}}, **extra)


def test_plan_warns_when_build_and_target_sizes_differ(play, fresh_sim, resources):
    gi_build.prepare_outputs(resources)
    since = fresh_sim.admin.last_seq()
    run = play(plan([
        definition("with-temp", "Standard_D2ds_v5", target_sizes=["Standard_D2s_v5", "Standard_D4ds_v5"]),
        definition("without-temp", "Standard_D2s_v5", target_sizes=["Standard_D2ds_v5"]),
        definition("same", "Standard_D2s_v5", target_sizes=["Standard_D4s_v5", "Standard_Nope_v9"]),
        definition("both-temp", "Standard_D2ds_v5", target_sizes=["Standard_D4ds_v5"]),
        definition("untargeted", "Standard_D2ds_v5"),
    ]))
    assert run.rc == 0, run.stdout
    result = run.task("plan")["result"]
    builds = {item["name"]: item for item in result["builds"]}
    assert builds["with-temp"]["temp_disk"] == {
        "build": {"present": True, "size_mb": 76800},
        "targets": {"Standard_D2s_v5": {"present": False, "size_mb": 0},
                    "Standard_D4ds_v5": {"present": True, "size_mb": 153600}}}
    assert builds["without-temp"]["temp_disk"]["build"] == {"present": False, "size_mb": 0}
    assert builds["same"]["temp_disk"]["targets"]["Standard_Nope_v9"] == {"present": None, "size_mb": None}
    assert "temp_disk" not in builds["untargeted"]
    warnings = result.get("warnings") or []
    by_build = {name: [text for text in warnings if text.startswith(f"build '{name}': ")]
                for name in builds}
    assert len(by_build["with-temp"]) == 1 and "Standard_D2s_v5" in by_build["with-temp"][0]
    assert "Standard_D4ds_v5" not in by_build["with-temp"][0]
    assert len(by_build["without-temp"]) == 1 and "Standard_D2ds_v5" in by_build["without-temp"][0]
    assert len(by_build["same"]) == 1 and "Standard_Nope_v9" in by_build["same"][0]  # only the unknown size
    assert by_build["both-temp"] == [] and by_build["untargeted"] == []
    assert len(skus_reads(fresh_sim, since)) == 1  # one list for the one location


def test_plan_without_target_sizes_reads_no_skus(play, fresh_sim, resources):
    gi_build.prepare_outputs(resources)
    since = fresh_sim.admin.last_seq()
    run = play(plan([definition("plain", "Standard_D2ds_v5")]))
    assert run.rc == 0, run.stdout
    assert "temp_disk" not in run.task("plan")["result"]["builds"][0]
    assert skus_reads(fresh_sim, since) == []


def test_bad_target_sizes_fail_the_plan_before_any_request(play, fresh_sim, resources):
    gi_build.prepare_outputs(resources)
    since = fresh_sim.admin.last_seq()
    run = play(plan([definition("bad", "Standard_D2s_v5", target_sizes=[5, ""])]))
    assert run.rc != 0
    message = run.task("plan")["result"]["msg"]
    assert "build 'bad'" in message and "target_sizes" in message and "list of VM size names" in message
    assert setup.arm_requests(fresh_sim, since) == []
