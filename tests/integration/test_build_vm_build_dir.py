"""build_vm state=absent with build_dir: the build's directory (its private SSH key) goes with the group, also when
the deletion fails; never through a symlink, and not in check mode."""

from __future__ import annotations

from tests.integration.test_build_vm import _in_group, _play, _present, ssh_key  # noqa: F401  (a fixture)


def _absent(build_id, build_dir, extra=""):
    return _play(f"""
state: absent
build_id: {build_id}
build_dir: {build_dir}
wait_timeout: 120
{extra}
""")


def _key_dir(root, build_id):
    path = root / build_id
    path.mkdir(parents=True)
    (path / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    return path


def test_absent_removes_the_build_directory_with_the_group(play, fresh_sim, ssh_key, tmp_path):
    builds = tmp_path / "builds"
    key_dir, other = _key_dir(builds, "kd1"), _key_dir(builds, "kd2")
    assert play(_present(ssh_key, build_id="kd1")).rc == 0
    run = play(_absent("kd1", builds))
    assert run.rc == 0, run.stdout
    assert _in_group(fresh_sim, "gi-build-kd1") == []
    assert not key_dir.exists()
    assert other.exists()  # another build's directory stays
    assert run.task("build")["result"]["build_dir_removed"] == str(key_dir)


def test_absent_removes_the_build_directory_when_the_group_is_already_gone(play, fresh_sim, tmp_path):
    key_dir = _key_dir(tmp_path / "builds", "gone1")
    run = play(_absent("gone1", tmp_path / "builds"))
    assert run.rc == 0, run.stdout
    assert run.task("build")["result"]["already_absent"] is True
    assert run.task("build")["result"]["changed"] is True  # the key was removed
    assert not key_dir.exists()


def test_absent_removes_the_build_directory_when_the_deletion_fails(play, fresh_sim, resources, tmp_path):
    resources.resource_groups.create_or_update("rg-precious", {"location": "westeurope",
                                                               "tags": {"goldenimage-build-id": "kd3"}})
    key_dir = _key_dir(tmp_path / "builds", "kd3")
    run = play(_absent("kd3", tmp_path / "builds", "resource_group: rg-precious"))
    assert run.rc != 0
    assert "goldenimage-temporary" in run.task("build")["result"]["msg"]
    assert fresh_sim.admin.resource(f"/subscriptions/{fresh_sim.subscription_id}/resourceGroups/rg-precious")
    assert not key_dir.exists()


def test_absent_never_follows_a_symlinked_build_directory(play, fresh_sim, tmp_path):
    builds = tmp_path / "builds"
    elsewhere = _key_dir(tmp_path / "elsewhere", "kd4")
    beside = _key_dir(builds, "someone-else")  # inside build_dir: only the link test stops this one
    (builds / "kd4").symlink_to(elsewhere)
    (builds / "kd6").symlink_to(beside)
    for build_id in ("kd4", "kd6"):
        run = play(_absent(build_id, builds))
        assert run.rc == 0, run.stdout
        assert run.task("build")["result"]["build_dir_removed"] is None
    assert (elsewhere / "id_ed25519").exists() and (beside / "id_ed25519").exists()


def test_check_mode_keeps_the_build_directory(play, fresh_sim, ssh_key, tmp_path):
    key_dir = _key_dir(tmp_path / "builds", "kd5")
    assert play(_present(ssh_key, build_id="kd5")).rc == 0
    absent = _absent("kd5", tmp_path / "builds").replace("register: out", "register: out\n      check_mode: true")
    run = play(absent)
    assert run.rc == 0, run.stdout
    assert run.task("build")["result"]["build_dir_removed"] == str(key_dir)
    assert key_dir.exists()
    assert _in_group(fresh_sim, "gi-build-kd5") != []
