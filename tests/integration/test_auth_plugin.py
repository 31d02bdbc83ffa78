"""The plugin front end in a real run: the marketplace_image lookup authenticates from its own options."""

from __future__ import annotations

import pytest

CREDENTIAL_ENV = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_SECRET", "AZURE_TENANT_ID", "AZURE_TENANT",
                  "AZURE_SUBSCRIPTION_ID", "AZURE_PROFILE", "AZURE_FEDERATED_TOKEN_FILE", "ANSIBLE_AZURE_AUTH_SOURCE")

PLAYBOOK = """
- name: Lookup authentication
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Resolve with credentials given to the lookup
      ansible.builtin.set_fact:
        urn: >-
          {{ lookup('goldenimage.azure.marketplace_image', 'Canonical:ubuntu-24_04-lts:server:latest',
                    location='eastus', field='urn', client_id=sim_client_id, secret=sim_secret,
                    tenant=sim_tenant, subscription_id=sim_subscription) }}
      ignore_errors: true
"""

MISSING_PROFILE = """
- name: Lookup authentication
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Resolve with a profile that does not exist
      ansible.builtin.set_fact:
        urn: "{{ lookup('goldenimage.azure.marketplace_image', 'Canonical:ubuntu-24_04-lts:server:latest',
                        location='eastus', profile='absent') }}"
      ignore_errors: true
"""


@pytest.fixture
def no_credentials_env(tmp_path):
    env = dict.fromkeys(CREDENTIAL_ENV, "")
    env["HOME"] = str(tmp_path)
    return env


def test_lookup_options_authenticate_and_never_show_the_secret(play, fresh_sim, no_credentials_env):
    secret = fresh_sim.env["AZURE_CLIENT_SECRET"]
    extra = {"sim_client_id": fresh_sim.env["AZURE_CLIENT_ID"], "sim_secret": secret,
             "sim_tenant": fresh_sim.env["AZURE_TENANT_ID"], "sim_subscription": fresh_sim.subscription_id}

    run = play(PLAYBOOK, env=no_credentials_env, extra_vars=extra, args=["-vvv"])

    result = run.task("Resolve with credentials given to the lookup")
    assert result["status"] == "ok", run.stdout
    assert result["result"]["ansible_facts"]["urn"].startswith("Canonical:ubuntu-24_04-lts:server:")
    assert secret not in run.stdout + run.stderr + repr(run.results)


def test_lookup_configuration_error_is_an_ansible_error(play, no_credentials_env, tmp_path):
    (tmp_path / ".azure").mkdir()
    (tmp_path / ".azure" / "credentials").write_text("[default]\nclient_id=app\n", encoding="utf-8")

    run = play(MISSING_PROFILE, env=no_credentials_env)

    result = run.task("Resolve with a profile that does not exist")
    assert result["status"] == "ignored"
    assert "profile 'absent' not found" in result["result"]["msg"]
    assert "Traceback" not in result["result"]["msg"]
