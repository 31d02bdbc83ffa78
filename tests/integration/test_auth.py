"""Authentication through real `ansible-playbook` runs: environment, options, module_defaults, no secret in output."""

from __future__ import annotations

import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY = {"ANSIBLE_LIBRARY": os.path.join(HERE, "modules")}
CREDENTIAL_ENV = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_SECRET", "AZURE_TENANT_ID", "AZURE_TENANT",
                  "AZURE_SUBSCRIPTION_ID", "AZURE_PROFILE", "AZURE_FEDERATED_TOKEN_FILE", "ANSIBLE_AZURE_AUTH_SOURCE")
WRONG_SECRET = "Wrong-Client-Secret-for-the-test-0987654321"

PROBE = """
- name: Probe
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Authenticate and list resource groups
      gi_auth_probe: {}
"""

PROBE_WITH_OPTIONS = """
- name: Probe with options
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Authenticate with task options
      gi_auth_probe:
        client_id: "{{ sim_client_id }}"
        secret: "{{ sim_secret }}"
        tenant: "{{ sim_tenant }}"
        subscription_id: "{{ sim_subscription }}"
      ignore_errors: true
"""


@pytest.fixture
def no_credentials_env(tmp_path):
    """Blank every credential variable (empty counts as unset) and use an empty HOME."""
    env = dict.fromkeys(CREDENTIAL_ENV, "")
    env.update(LIBRARY, HOME=str(tmp_path))
    return env


def option_vars(sim, secret):
    return {"sim_client_id": sim.env["AZURE_CLIENT_ID"], "sim_secret": secret, "sim_tenant": sim.env["AZURE_TENANT_ID"],
            "sim_subscription": sim.subscription_id}


def token_requests(sim):
    return [item for item in sim.admin.requests() if item["kind"] == "entra" and item["method"] == "POST"]


def test_environment_credentials(play, fresh_sim, resources):
    resources.resource_groups.create_or_update("rg-auth", {"location": "eastus"})
    fresh_sim.admin.clear_requests()

    run = play(PROBE, env=LIBRARY)

    result = run.task("Authenticate and list resource groups")
    assert result["status"] == "ok", run.stdout
    assert result["result"]["auth_source"] == "env"
    assert result["result"]["resource_groups"] == ["rg-auth"]
    assert len(token_requests(fresh_sim)) == 1


def test_azcollection_variable_names(play, fresh_sim, no_credentials_env):
    env = dict(no_credentials_env, AZURE_CLIENT_ID=fresh_sim.env["AZURE_CLIENT_ID"],
               AZURE_SECRET=fresh_sim.env["AZURE_CLIENT_SECRET"], AZURE_TENANT=fresh_sim.env["AZURE_TENANT_ID"],
               AZURE_SUBSCRIPTION_ID=fresh_sim.subscription_id)

    run = play(PROBE, env=env)

    assert run.task("Authenticate and list resource groups")["status"] == "ok", run.stdout


def test_credentials_profile(play, fresh_sim, no_credentials_env, tmp_path):
    (tmp_path / ".azure").mkdir()
    (tmp_path / ".azure" / "credentials").write_text(
        "[build]\nsubscription_id=%s\nclient_id=%s\nsecret=%s\ntenant=%s\n" % (
            fresh_sim.subscription_id, fresh_sim.env["AZURE_CLIENT_ID"], fresh_sim.env["AZURE_CLIENT_SECRET"],
            fresh_sim.env["AZURE_TENANT_ID"]), encoding="utf-8")

    run = play(PROBE, env=dict(no_credentials_env, AZURE_PROFILE="build"))

    result = run.task("Authenticate and list resource groups")
    assert result["status"] == "ok", run.stdout
    assert result["result"]["auth_source"] == "credential_file"


def test_task_options_with_vvv_never_show_the_secret(play, fresh_sim, no_credentials_env):
    secret = fresh_sim.env["AZURE_CLIENT_SECRET"]

    run = play(PROBE_WITH_OPTIONS, env=no_credentials_env, extra_vars=option_vars(fresh_sim, secret), args=["-vvv"])

    assert run.task("Authenticate with task options")["status"] == "ok", run.stdout
    assert secret not in run.stdout + run.stderr
    assert secret not in repr(run.results)


def test_wrong_secret_fails_cleanly_without_showing_it(play, fresh_sim, no_credentials_env):
    run = play(PROBE_WITH_OPTIONS, env=no_credentials_env, extra_vars=option_vars(fresh_sim, WRONG_SECRET),
               args=["-vvv"])

    result = run.task("Authenticate with task options")
    assert result["status"] == "ignored"  # failed, under ignore_errors
    assert result["result"]["error_code"] == "AADSTS7000215"
    assert "Traceback" not in result["result"].get("module_stderr", "") + result["result"].get("msg", "")
    assert WRONG_SECRET not in run.stdout + run.stderr + repr(run.results)


def test_module_defaults_action_group(play, fresh_sim, no_credentials_env):
    """Auth options set once for group/goldenimage.azure.azure reach a collection module."""
    playbook = """
    - name: Group defaults
      hosts: localhost
      gather_facts: false
      module_defaults:
        group/goldenimage.azure.azure:
          client_id: "{{ sim_client_id }}"
          secret: "{{ sim_secret }}"
          tenant: "{{ sim_tenant }}"
          subscription_id: "{{ sim_subscription }}"
      tasks:
        - name: Generalize a VM that does not exist
          goldenimage.azure.vm_generalize:
            name: absent-vm
            resource_group: absent-rg
          ignore_errors: true
    """

    wrong = play(playbook, env=no_credentials_env, extra_vars=option_vars(fresh_sim, WRONG_SECRET))
    right = play(playbook, env=no_credentials_env, extra_vars=option_vars(fresh_sim, fresh_sim.env["AZURE_CLIENT_SECRET"]))

    assert wrong.task("Generalize a VM that does not exist")["result"]["error_code"] == "AADSTS7000215"
    reached_arm = right.task("Generalize a VM that does not exist")["result"]
    assert reached_arm["operation"].startswith("get VM 'absent-vm'"), reached_arm  # authenticated, then ARM answered
    assert reached_arm["status_code"] >= 400
