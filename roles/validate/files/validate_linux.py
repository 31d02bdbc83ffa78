# The checks of the goldenimage.azure.validate role, run by the guest's Python as root in ONE pipelined command
# (python3 - CONFIG_JSON, this text on stdin), so a VM from a new image is judged in one SSH round trip.
#
# mode "record" runs on the build VM before it is deprovisioned: it writes the image's build marker
# (/etc/goldenimage/build.json, what "the customisation is present" looks for) and prints what a VM made from
# the image must NOT share with the build VM: its machine-id and SSH host public keys (public data, no secret).
# mode "check" runs on a VM created from the captured image and prints {check: {ok, detail}}; exit 0 either way
# (the role judges), anything else means the script itself failed.
import glob
import json
import os
import pwd
import sys

CONFIG = json.loads(sys.argv[1])
MARKER = "/etc/goldenimage/build.json"
HOST_KEYS = "/etc/ssh/ssh_host_*_key.pub"


def read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return None


def host_keys():
    """The host public keys as 'type base64' (comments dropped: they name the host, not the key)."""
    keys = []
    for path in sorted(glob.glob(HOST_KEYS)):
        fields = (read(path) or "").split()
        if len(fields) >= 2:
            keys.append(" ".join(fields[:2]))
    return keys


def record():
    os.makedirs(os.path.dirname(MARKER), mode=0o755, exist_ok=True)
    tmp = MARKER + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(CONFIG["marker"], handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, MARKER)
    return {"machine_id": read("/etc/machine-id") or "", "host_keys": host_keys()}


def check():
    checks = {}
    user = CONFIG.get("build_user") or ""
    try:
        entry = pwd.getpwnam(user) if user else None
    except KeyError:
        entry = None
    home = "/home/%s" % user if user else ""
    leftovers = (["passwd entry"] if entry else []) + (["home " + home] if home and os.path.lexists(home) else [])
    checks["build_user_removed"] = {
        "ok": bool(user) and not leftovers,
        "detail": ("build user %s: %s left" % (user, ", ".join(leftovers))) if leftovers
        else "build user %s is gone" % user if user else "the build user is not known"}
    machine_id = read("/etc/machine-id") or ""
    old = CONFIG.get("machine_id") or ""
    fresh = len(machine_id) == 32 and machine_id != old
    checks["machine_id_fresh"] = {
        "ok": fresh,
        "detail": "machine-id %s is new" % machine_id if fresh
        else "machine-id '%s' is %s" % (machine_id, "the build VM's" if machine_id and machine_id == old else "not valid")}
    now = host_keys()
    shared = sorted(set(now) & set(CONFIG.get("host_keys") or []))
    checks["host_keys_new"] = {
        "ok": bool(now) and not shared,
        "detail": ("%d SSH host key(s) of the build VM kept: %s" % (len(shared), ", ".join(k.split()[0] for k in shared)))
        if shared else "%d new SSH host key(s)" % len(now) if now else "no SSH host key"}
    try:
        with open(MARKER) as handle:
            marker = json.load(handle)
    except (IOError, OSError, ValueError) as exc:
        marker, why = {}, "%s unreadable (%s)" % (MARKER, exc)
    else:
        why = "%s names build %s" % (MARKER, marker.get("build_id"))
    present = marker.get("build_id") == CONFIG.get("build_id")
    checks["customization_present"] = {
        "ok": present, "detail": why if present else "%s, expected %s" % (why, CONFIG.get("build_id"))}
    admin = CONFIG.get("admin_user") or ""
    try:
        pwd.getpwnam(admin)
        provisioned = bool(admin)
    except KeyError:
        provisioned = False
    checks["new_user_provisioned"] = {
        "ok": provisioned and admin != user,
        "detail": "provisioned user %s" % admin if provisioned else "user %s does not exist" % admin}
    return checks


if __name__ == "__main__":
    sys.stdout.write(json.dumps(record() if CONFIG.get("mode") == "record" else check()))
