"""Core simulator behaviour through the real SDK: auth, resource groups, async delete, errors."""

import pytest
from azure.core.exceptions import HttpResponseError


def test_resource_group_lifecycle(resources, fresh_sim):
    group = resources.resource_groups.create_or_update("rg-core", {"location": "eastus", "tags": {"purpose": "test"}})
    assert group.location == "eastus"
    assert fresh_sim.admin.resource(group.id)["tags"] == {"purpose": "test"}
    resources.resource_groups.begin_delete("rg-core").result()
    assert fresh_sim.admin.resources() == []


def test_invalid_resource_group_name(resources, fresh_sim):
    with pytest.raises(HttpResponseError) as info:
        resources.resource_groups.create_or_update("bad name!", {"location": "eastus"})
    assert info.value.error.code == "InvalidResourceGroup"
    assert fresh_sim.admin.resources() == []
