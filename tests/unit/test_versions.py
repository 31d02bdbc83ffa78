"""Numeric version ordering and version specifications (plugins/module_utils/_versions.py)."""

from __future__ import annotations

import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.harness import ensure_collection_path

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils._versions import (  # noqa: E402
    VersionSpec,
    compare,
    matching,
    newest,
    select,
    sort_versions,
    version_key,
)

RHEL8 = ["8.8.2023121916", "8.9.2024022012", "8.10.2024070513", "8.10.2025010210"]
RHEL9 = ["9.4.2024081412", "9.6.2025061713", "9.8.2026052008", "9.4.2026092611"]


def test_numeric_not_lexical():
    assert newest(RHEL8) == "8.10.2025010210"
    assert sorted(RHEL8)[-1] == "8.9.2024022012"  # what ARM's lexical $orderby picks
    assert compare("1.0.10", "1.0.9") == 1
    assert compare("8.10", "8.9") == 1
    assert compare("2.0", "10.0") == -1


def test_republished_old_minor_does_not_win():
    # azure#2282: a re-published 9.4 has the newest date but 9.8 is the newest release.
    assert newest(RHEL9) == "9.8.2026052008"


def test_mixed_length_and_prefix_order():
    assert sort_versions(["1.0.1", "1.0", "1", "1.0.0"]) == ["1", "1.0", "1.0.0", "1.0.1"]


def test_non_numeric_components_sort_below_numeric_and_naturally():
    assert sort_versions(["1.0.0", "1.0.0-rc10", "1.0.0-rc2", "1.0.beta"]) == [
        "1.0.beta", "1.0.0-rc2", "1.0.0-rc10", "1.0.0"]


def test_leading_zeros_tie_broken_deterministically():
    assert sort_versions(["1.1", "1.01"]) == ["1.01", "1.1"]
    assert compare("1.01", "1.1") == -1


def test_specs():
    assert VersionSpec(None).kind == "latest"
    assert VersionSpec("Latest").kind == "latest"
    assert VersionSpec("22.04.*").kind == "prefix"
    assert VersionSpec("22.04.2024*").kind == "glob"
    assert VersionSpec("8.9.2024022012").kind == "exact"


def test_prefix_is_per_component():
    versions = ["8.9.1", "8.10.2", "80.1.1", "8.10.10"]
    assert select(versions, "8.*") == "8.10.10"
    assert select(versions, "8.10.*") == "8.10.10"
    assert select(versions, "8.9.*") == "8.9.1"
    assert select(versions, "80.*") == "80.1.1"
    assert select(versions, "7.*") is None
    assert matching(versions, "8.*") == ["8.10.10", "8.10.2", "8.9.1"]


def test_exact_and_glob():
    assert select(RHEL8, "8.9.2024022012") == "8.9.2024022012"
    assert select(RHEL8, "8.9.2024") is None
    assert select(RHEL8, "8.10.2024*") == "8.10.2024070513"
    assert select(["22.04.202411190", "22.04.202410020"], "22.04.*") == "22.04.202411190"


# -- properties --------------------------------------------------------------------------------------

numeric = st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=6)
component = st.one_of(st.integers(min_value=0, max_value=10**6).map(str),
                      st.text(alphabet="0123456789abcXYZ-_+", min_size=1, max_size=6))
anyversion = st.lists(component, min_size=1, max_size=5).map(".".join)


@settings(max_examples=300, deadline=None)
@given(numeric, numeric)
def test_consistent_with_integer_tuples(left, right):
    a, b = ".".join(map(str, left)), ".".join(map(str, right))
    assert compare(a, b) == (tuple(left) > tuple(right)) - (tuple(left) < tuple(right))


@settings(max_examples=300, deadline=None)
@given(anyversion, anyversion, anyversion)
def test_total_order(a, b, c):
    # antisymmetric and total on distinct strings
    assert (compare(a, b) == 0) == (a == b)
    assert compare(a, b) == -compare(b, a)
    # transitive
    if compare(a, b) <= 0 and compare(b, c) <= 0:
        assert compare(a, c) <= 0


@settings(max_examples=200, deadline=None)
@given(st.lists(anyversion, max_size=12))
def test_sorting_is_deterministic(versions):
    assert sort_versions(versions) == sort_versions(list(reversed(versions)))
    assert sort_versions(versions) == sorted(versions, key=version_key)


@settings(max_examples=300, deadline=None)
@given(st.lists(numeric, min_size=1, max_size=15), st.lists(st.integers(min_value=0, max_value=10**12),
                                                            min_size=1, max_size=3))
def test_prefix_selection_picks_max_of_matches(tuples, prefix):
    versions = [".".join(map(str, item)) for item in tuples]
    spec = ".".join(map(str, prefix)) + ".*"
    matches = [item for item in tuples if len(item) > len(prefix) and tuple(item[:len(prefix)]) == tuple(prefix)]
    chosen = select(versions, spec)
    if not matches:
        assert chosen is None
    else:
        assert tuple(int(part) for part in chosen.split(".")) == max(tuple(item) for item in matches)


@settings(max_examples=200, deadline=None)
@given(st.lists(anyversion, min_size=1, max_size=12))
def test_latest_is_the_maximum(versions):
    assert select(versions, "latest") == max(versions, key=version_key)
    assert all(compare(select(versions, "latest"), item) >= 0 for item in versions)
