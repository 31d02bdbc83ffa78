# The deprovisioning of the goldenimage.azure.deprovision role, run by the guest's Python as root in ONE pipelined
# command (python3 - CONFIG_JSON, this text on stdin): it plans, refuses, deprovisions and verifies.
#
# Why one command: ``waagent -deprovision+user`` deletes the user Ansible connects as. After that no task can
# run on the guest (sudo: "you do not exist in the passwd database"), so everything that must happen after the
# deletion - removing what the deletion and the last sudo calls logged, and verifying the result - happens
# here, and the verdict travels back as JSON on stdout. The probes before it (which users, which homes, is
# the agent there, what cloud-init left) are here too: one SSH round trip instead of ten tasks.
# Exit 0: every check passed (or, with dry_run, the plan); 3: a check failed (the role shows which);
# 4: refused before any change (``refused`` says why); anything else: the script itself failed.
import fnmatch
import glob
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys

CONFIG = json.loads(sys.argv[1])
LEASE_GLOBS = [
    "/var/lib/dhcp/*", "/var/lib/dhclient/*", "/var/lib/dhcpcd/*", "/var/db/dhclient.leases.*",
    "/var/lib/NetworkManager/dhclient-*.lease", "/var/lib/NetworkManager/internal-*.lease",
    "/run/systemd/netif/leases/*",
]
SSH_HOST_KEY_GLOB = "/etc/ssh/ssh_host_*key*"
WAAGENT_STATE = "/var/lib/waagent"
CLOUD_STATE = ["/var/lib/cloud/instance", "/var/lib/cloud/instances", "/var/lib/cloud/data", "/var/lib/cloud/seed",
               "/var/log/cloud-init.log", "/var/log/cloud-init-output.log"]
# shadow-utils' backups of the account databases (useradd, userdel, usermod and vipw write them): userdel leaves
# the deleted user in them, and shadow- keeps the root password hash from before the lock.
ACCOUNT_FILES = ["/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/subuid", "/etc/subgid"]
AUTHORIZED_KEYS = (".ssh/authorized_keys", ".ssh/authorized_keys2")
KEY_RE = re.compile(r"(?:^|[\s,])((?:sk-)?(?:ssh|ecdsa)-[A-Za-z0-9@.-]+)\s+([A-Za-z0-9+/]+={0,3})(?:\s|$)")
# cloud-init's disable_root puts the VM's keys into root's authorized_keys behind this command.
DISABLE_ROOT_RE = re.compile(r'command="[^"]*Please login as the user \\?"[^"\\]*\\?" rather than the user \\?"root')
ROTATED = ["*.gz", "*.xz", "*.bz2", "*.zst", "*.old", "*.[0-9]", "*.[0-9].log", "*-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]"]

actions = []
errors = []


def run(argv):
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    out, err = proc.communicate()
    return proc.returncode, out, err


def remove(path):
    """Delete a file, symlink or tree without following symlinks. True if something was deleted."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)
    actions.append("removed " + path)
    return True


def empty_dir(path):
    if not os.path.isdir(path) or os.path.islink(path):
        return
    for entry in os.listdir(path):
        remove(os.path.join(path, entry))


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def homes():
    """Every home directory on the system (root's and each account's that exists), plus /home/*."""
    found = {"/root"}
    for entry in pwd.getpwall():
        if entry.pw_dir and entry.pw_dir != "/" and os.path.isdir(entry.pw_dir) and (
                entry.pw_uid == 0 or entry.pw_uid >= 1000 or entry.pw_dir.startswith("/home/")):
            found.add(entry.pw_dir)
    found.update(path for path in glob.glob("/home/*") if os.path.isdir(path) and not os.path.islink(path))
    return sorted(found)


def sudoers_files():
    files = ["/etc/sudoers"] if os.path.isfile("/etc/sudoers") else []
    if os.path.isdir("/etc/sudoers.d"):
        files += sorted(os.path.join("/etc/sudoers.d", name) for name in os.listdir("/etc/sudoers.d")
                        if os.path.isfile(os.path.join("/etc/sudoers.d", name)))
    return files


def rule_names_user(line, users):
    stripped = line.strip()
    if not stripped or stripped.startswith("#") and not stripped.startswith("#include"):
        return False
    first = re.split(r"[\s,]", stripped, maxsplit=1)[0]
    return first in users


def clean_sudoers(users):
    for path in sudoers_files():
        if path == "/etc/sudoers":
            continue  # the main file is the distribution's; only checked
        with open(path) as handle:
            lines = handle.readlines()
        kept = [line for line in lines if not rule_names_user(line, users)]
        if kept == lines:
            continue
        if not any(line.strip() and not line.lstrip().startswith("#") for line in kept):
            remove(path)  # only comments left (cloud-init's "User rules for <user>"): a per-VM file
            continue
        mode = os.stat(path).st_mode & 0o7777
        with open(path + ".deprovision", "w") as handle:
            handle.writelines(kept)
        os.chmod(path + ".deprovision", mode)
        os.rename(path + ".deprovision", path)
        actions.append(f"removed {len(lines) - len(kept)} rule(s) for {', '.join(users)} from {path}")
    if shutil.which("visudo"):
        rc, out, err = run(["visudo", "-c"])
        if rc != 0:
            errors.append("visudo -c failed after editing sudoers: " + (out + err).strip())


def matches(name, patterns):
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def log_files():
    for top, dirs, files in os.walk(CONFIG["log_dir"]):
        if os.path.basename(top) == "journal" or "/journal/" in top + "/":
            dirs[:] = []
            continue
        for name in files:
            path = os.path.join(top, name)
            if os.path.isfile(path) and not os.path.islink(path):
                yield path, name


def clean_logs():
    for path, name in list(log_files()):
        if CONFIG["remove_rotated_logs"] and matches(name, ROTATED):
            remove(path)
        elif matches(name, CONFIG["log_truncate_patterns"]) and os.path.getsize(path) > 0:
            with open(path, "r+b") as handle:
                handle.truncate(0)
            actions.append("truncated " + path)


def clean_journal():
    if os.path.isdir("/run/systemd/system") and shutil.which("journalctl"):
        run(["journalctl", "--rotate"])
        run(["journalctl", "--vacuum-time=1s"])
    for top in ("/var/log/journal", "/run/log/journal"):
        for path in glob.glob(top + "/*/*.journal~") + glob.glob(top + "/*/*@*.journal"):
            remove(path)
        if not os.path.isdir("/run/systemd/system"):  # no journald running: nothing holds the active files
            for path in glob.glob(top + "/*/*.journal"):
                remove(path)


def journal_leftovers():
    found = []
    for top in ("/var/log/journal", "/run/log/journal"):
        found += glob.glob(top + "/*/*@*.journal") + glob.glob(top + "/*/*.journal~")
        if not os.path.isdir("/run/systemd/system"):
            found += glob.glob(top + "/*/*.journal")
    return found


def lock_root():
    with open("/etc/shadow") as handle:
        for line in handle:
            fields = line.split(":")
            if fields[0] == "root" and fields[1] and fields[1][0] not in "!*":
                rc, _out, err = run(["usermod", "-p", "*LOCK*", "root"])
                if rc != 0:
                    errors.append("usermod -p '*LOCK*' root failed: " + err.strip())
                else:
                    actions.append("locked the root password")


def root_locked():
    with open("/etc/shadow") as handle:
        for line in handle:
            fields = line.split(":")
            if fields[0] == "root":
                return not fields[1] or fields[1][0] in "!*"
    return True


def key_blobs(text):
    """The base64 key blobs of the public keys in an authorized_keys file or an OVF document."""
    return {found.group(2) for line in text.splitlines() for found in [KEY_RE.search(line)] if found}


def build_time_line(line, blobs):
    """True for an authorized_keys line with a build-time key, or cloud-init's disable_root line for a user."""
    found = KEY_RE.search(line)
    return bool(found and found.group(2) in blobs) or bool(DISABLE_ROOT_RE.search(line))


def read_text(path):
    try:
        with open(path, errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def replace_file(path, text, like):
    """Write text to path atomically with the owner and mode of the file ``like``."""
    info = os.stat(like)
    tmp = path + ".deprovision"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.chown(tmp, info.st_uid, info.st_gid)
    os.chmod(tmp, stat.S_IMODE(info.st_mode))
    os.rename(tmp, path)


def build_keys():
    """Keys the build logged in with, read before waagent deletes ovf-env.xml: the keys Azure provisioned from the
    VM's osProfile (ovf-env.xml), the keys cloud-init's disable_root copied into root's authorized_keys (the same
    ones), and the keys given in deprovision_build_keys. Keys a customisation added for a user are not among them."""
    blobs = key_blobs("\n".join(CONFIG["build_keys"]))
    ovf = read_text(os.path.join(WAAGENT_STATE, "ovf-env.xml"))
    for value in re.findall(r"<(?:\w+:)?Value>([^<]+)</(?:\w+:)?Value>", ovf):
        blobs |= key_blobs(value)
    for name in AUTHORIZED_KEYS:
        for line in read_text(os.path.join("/root", name)).splitlines():
            if DISABLE_ROOT_RE.search(line):
                blobs |= key_blobs(line)
    return blobs


def kept_users_with_keys():
    """Build users that stay (deprovision_delete_user=false) and still have an authorized_keys with keys."""
    found = []
    for user in CONFIG["key_users"]:
        try:
            home = pwd.getpwnam(user).pw_dir
        except KeyError:
            continue
        if any(key_blobs(read_text(os.path.join(home, name))) for name in AUTHORIZED_KEYS):
            found.append(user)
    return found


def authorized_keys_files():
    return [os.path.join(home, name) for home in homes() for name in AUTHORIZED_KEYS
            if os.path.isfile(os.path.join(home, name)) and not os.path.islink(os.path.join(home, name))]


def remove_build_keys(blobs):
    for path in authorized_keys_files():
        lines = read_text(path).splitlines(True)
        kept = [line for line in lines if not build_time_line(line, blobs)]
        if kept == lines:
            continue
        if not any(line.strip() and not line.lstrip().startswith("#") for line in kept):
            remove(path)
            continue
        replace_file(path, "".join(kept), path)
        actions.append(f"removed {len(lines) - len(kept)} build-time key(s) from {path}")


def sync_account_backups():
    """Make each backup a copy of its (cleaned) database: what the next account change would write anyway."""
    for path in ACCOUNT_FILES:
        backup = path + "-"
        if not os.path.isfile(backup):
            continue
        if not os.path.isfile(path):
            remove(backup)
            continue
        if read_text(backup) != read_text(path):
            replace_file(backup, read_text(path), backup)
            actions.append(f"replaced {backup} with a copy of {path}")


def refuse(message):
    print(json.dumps({"ok": False, "refused": message, "failed": ["refused"], "checks": {}, "actions": []}))
    sys.exit(4)


def ovf_user():
    """The user waagent will delete: the one ovf-env.xml names ('' without the file)."""
    text = read_text(os.path.join(WAAGENT_STATE, "ovf-env.xml")) if os.path.isfile(
        os.path.join(WAAGENT_STATE, "ovf-env.xml")) else ""
    found = re.search(r"<(?:\w+:)?UserName>([^<]+)</(?:\w+:)?UserName>", text)
    return found.group(1).strip() if found else ""


# ---- the temporary (resource) disk -------------------------------------------------------------------------
# waagent and cloud-init configure the Azure resource disk of the build VM's size: waagent formats and mounts it
# (ResourceDisk.Format, default mount point /mnt/resource) and puts a swap file on it (ResourceDisk.EnableSwap);
# cloud-init's mounts module writes an fstab line for ephemeral0 (/dev/disk/cloud/azure_resource-part1 on /mnt,
# comment=cloudconfig). A VM made from the image on a size without a resource disk (v5/v6 without 'd') then waits
# for that device at boot, or fails to mount it. cc_mounts only rewrites its lines when it has something to mount,
# so on such a size it leaves the image's line as it was.
WAAGENT_CONF = "/etc/waagent.conf"
WAAGENT_TEMP_DISK = (("ResourceDisk.Format", "n"), ("ResourceDisk.EnableSwap", "n"), ("ResourceDisk.SwapSizeMB", "0"))
TEMP_DISK_MODES = ("nofail", "remove")
TEMP_DISK_DROPIN = "/etc/cloud/cloud.cfg.d/91-goldenimage-temp-disk.cfg"
CLOUD_INIT_DEFAULT_OPTIONS = "defaults,nofail,x-systemd.requires=cloud-init.service,_netdev"


def waagent_setting(text, key):
    """The last uncommented value of ``key`` in waagent.conf text, or None."""
    found = re.findall(r"^[ \t]*" + re.escape(key) + r"[ \t]*=[ \t]*(\S*)", text, re.MULTILINE)
    return found[-1] if found else None


def resource_mount_point():
    value = waagent_setting(read_text(WAAGENT_CONF), "ResourceDisk.MountPoint")
    return (value or "/mnt/resource").rstrip("/") or "/mnt/resource"


def swap_file_candidates():
    """waagent's swap file (ResourceDisk.MountPoint/swapfile) and the usual other places on the resource disk."""
    found = []
    for path in (resource_mount_point() + "/swapfile", "/mnt/resource/swapfile", "/mnt/swapfile"):
        if path not in found:
            found.append(path)
    return found


def waagent_conf_text(text):
    """(new text, changes) with ResourceDisk.Format=n, EnableSwap=n and SwapSizeMB=0."""
    changes = []
    for key, value in WAAGENT_TEMP_DISK:
        pattern = re.compile(r"^([ \t]*" + re.escape(key) + r"[ \t]*=[ \t]*)(\S*)(.*)$", re.MULTILINE)
        if not pattern.search(text):
            text = text + ("" if not text or text.endswith("\n") else "\n") + "%s=%s\n" % (key, value)
            changes.append("%s: add %s=%s" % (WAAGENT_CONF, key, value))
            continue
        for found in pattern.finditer(text):
            if found.group(2) != value:
                changes.append("%s: %s=%s -> %s" % (WAAGENT_CONF, key, found.group(2), value))
        text = pattern.sub(lambda found: found.group(1) + value + found.group(3), text)
    return text, changes


def fstab_fields(line):
    """The fields of an fstab entry (options as the 4th, padded), or None for comments and blank lines."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    fields = stripped.split()
    if len(fields) == 3 and ("," in fields[2] or "=" in fields[2]):
        fields = [fields[0], fields[1], "auto", fields[2]]  # old cloud-init lines without a type
    while len(fields) < 4:
        fields.append("auto" if len(fields) == 2 else "defaults")
    return fields


def is_resource_disk_entry(fields, mount_point):
    options = fields[3].split(",")
    return fields[2] != "swap" and (
        fields[0].startswith("/dev/disk/cloud/azure_resource") or fields[0] in ("ephemeral0", "/dev/ephemeral0")
        or ("comment=cloudconfig" in options and fields[1].rstrip("/") in ("/mnt", mount_point))
        or fields[1].rstrip("/") == mount_point)


def nofail_options(options, timeout):
    parts = [part for part in options.split(",") if part and part != "nobootwait"
             and not part.startswith("x-systemd.device-timeout=")]
    wanted = [part for part in ("nofail", "x-systemd.device-timeout=%ds" % timeout) if part not in parts]
    if "comment=cloudconfig" in parts:  # cloud-init's marker stays last, as it writes it
        index = parts.index("comment=cloudconfig")
        parts[index:index] = wanted
    else:
        parts += wanted
    return ",".join(parts)


def fstab_text(text, mode, timeout):
    """(new /etc/fstab text, changes): swap entries for the resource disk's swap file dropped; resource disk
    entries given nofail and a device timeout (mode nofail) or dropped (mode remove)."""
    mount_point, swaps = resource_mount_point(), swap_file_candidates()
    out, changes = [], []
    for line in text.splitlines(True):
        fields = fstab_fields(line)
        if fields and fields[2] == "swap" and fields[0] in swaps:
            changes.append("/etc/fstab: remove swap entry " + line.strip())
            continue
        if fields and is_resource_disk_entry(fields, mount_point):
            if mode == "remove":
                changes.append("/etc/fstab: remove " + line.strip())
                continue
            options = nofail_options(fields[3], timeout)
            if options != fields[3]:
                fields[3] = options
                new = "\t".join(fields) + "\n"
                changes.append("/etc/fstab: %s -> %s" % (line.strip(), new.strip()))
                line = new
        out.append(line)
    return "".join(out), changes


def cloud_init_present():
    return os.path.isfile("/usr/bin/cloud-init") or os.path.isdir("/etc/cloud/cloud.cfg.d")


def dropin_text(mode, timeout):
    head = ("#cloud-config\n# Written by the goldenimage.azure.deprovision role (deprovision_temp_disk_mount=%s):\n"
            "# the image must boot on VM sizes with and without a temporary (resource) disk.\n" % mode)
    if mode == "remove":
        return head + ("# No fstab entry for the resource disk (ephemeral0): the device alone, without a mount point.\n"
                       "mounts:\n  - [ephemeral0]\n")
    return head + ("# The options cloud-init's mounts module gives the ephemeral0 entry: nofail and a bounded wait.\n"
                   'mount_default_fields: [null, null, auto, "%s,x-systemd.device-timeout=%ds", "0", "2"]\n'
                   % (CLOUD_INIT_DEFAULT_OPTIONS, timeout))


def temp_disk_plan():
    """What the temporary disk steps would change (read only); refuses (exit 4) bad settings first."""
    mode, timeout = CONFIG.get("temp_disk_mount", "nofail"), CONFIG.get("temp_disk_device_timeout", 10)
    if mode not in TEMP_DISK_MODES:
        refuse("deprovision_temp_disk_mount must be one of %s, not %r" % (", ".join(TEMP_DISK_MODES), mode))
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
        refuse("deprovision_temp_disk_device_timeout must be a whole number of seconds, at least 1, not %r"
               % (timeout,))
    waagent_changes = []
    if CONFIG.get("temp_disk_waagent", True) and os.path.isfile(WAAGENT_CONF):
        waagent_changes = waagent_conf_text(read_text(WAAGENT_CONF))[1]
    swaps = [path for path in swap_file_candidates() if os.path.lexists(path)] if CONFIG.get(
        "temp_disk_waagent", True) else []
    fstab_changes = fstab_text(read_text("/etc/fstab"), mode, timeout)[1] if os.path.isfile("/etc/fstab") else []
    dropin = cloud_init_present() and read_text(TEMP_DISK_DROPIN) != dropin_text(mode, timeout)
    return {"mode": mode, "device_timeout": timeout, "waagent_conf": waagent_changes, "swap_files": swaps,
            "fstab": fstab_changes, "cloud_init_dropin": TEMP_DISK_DROPIN if dropin else None}


def swapoff(path):
    swaps = [line.split()[0] for line in read_text("/proc/swaps").splitlines()[1:] if line.split()]
    if path in swaps and shutil.which("swapoff"):
        rc, _out, err = run(["swapoff", path])
        if rc != 0:
            errors.append("swapoff %s failed: %s" % (path, err.strip()))


def write_like(path, text, mode=0o644):
    """replace_file with the file's own owner and mode, or root and ``mode`` for a new file."""
    if os.path.exists(path):
        replace_file(path, text, path)
        return
    tmp = path + ".deprovision"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def apply_temp_disk(mode, timeout):
    if CONFIG.get("temp_disk_waagent", True):
        if os.path.isfile(WAAGENT_CONF):
            text, changes = waagent_conf_text(read_text(WAAGENT_CONF))
            if changes:
                replace_file(WAAGENT_CONF, text, WAAGENT_CONF)
                actions.extend(changes)
        for path in swap_file_candidates():
            if os.path.lexists(path):
                swapoff(path)
                remove(path)
    if os.path.isfile("/etc/fstab"):
        text, changes = fstab_text(read_text("/etc/fstab"), mode, timeout)
        if changes:
            replace_file("/etc/fstab", text, "/etc/fstab")
            actions.extend(changes)
    if cloud_init_present() and read_text(TEMP_DISK_DROPIN) != dropin_text(mode, timeout):
        os.makedirs(os.path.dirname(TEMP_DISK_DROPIN), exist_ok=True)
        write_like(TEMP_DISK_DROPIN, dropin_text(mode, timeout))
        actions.append("wrote " + TEMP_DISK_DROPIN)


def plan():
    """Who is deleted, with which homes; refuse (exit 4) what must not be deprovisioned, before any change."""
    build_user = CONFIG["build_user"] or os.environ.get("SUDO_USER") or os.environ.get("DOAS_USER") or ""
    if not os.path.isfile(CONFIG["waagent"]):
        refuse(f"{CONFIG['waagent']} not found: install the Azure Linux agent (waagent/walinuxagent)")
    delete_users, user_homes = [], []
    if CONFIG["delete_user"]:
        entry = None
        try:
            entry = pwd.getpwnam(build_user) if build_user else None
        except KeyError:
            pass
        if entry is None or build_user == "root" or entry.pw_uid < 1000:
            refuse(f"The build user {build_user or '(unknown)'} must be an existing regular account (uid >= 1000), "
                   "not root. Connect as the VM's admin user, set deprovision_user, or set deprovision_delete_user=false.")
        delete_users.append(build_user)
        named = ovf_user()
        if named and named not in delete_users and named != "root" and user_exists(named):
            delete_users.append(named)
        user_homes = [pwd.getpwnam(user).pw_dir for user in delete_users]
    cloud_init = os.path.isfile("/usr/bin/cloud-init") and CONFIG["cloud_init_clean"]
    CONFIG.update(users=delete_users, user_homes=user_homes, check_cloud_init=cloud_init,
                  key_users=[user for user in [build_user] if user and user != "root"])
    state = [os.path.join("/var/lib/cloud", name) for name in os.listdir("/var/lib/cloud")] if os.path.isdir(
        "/var/lib/cloud") else []
    temp_disk = temp_disk_plan()
    return {"build_user": build_user, "users": delete_users, "user_homes": user_homes, "temp_disk": temp_disk,
            "ovf_env_present": os.path.isfile(os.path.join(WAAGENT_STATE, "ovf-env.xml")),
            "cloud_init_clean": cloud_init and (any(path != "/var/lib/cloud/data" for path in state)
                                                or os.path.exists("/var/log/cloud-init.log"))}


PLAN = plan()
if CONFIG["dry_run"]:
    print(json.dumps({"ok": True, "dry_run": True, "plan": PLAN, "failed": [], "checks": {}, "actions": []}))
    sys.exit(0)
# Before waagent: after it there is no sudo. --machine-id deletes /etc/machine-id (22.4) or writes
# "uninitialized" (newer); the steps below leave it empty either way.
if PLAN["cloud_init_clean"]:
    rc_ci, out_ci, err_ci = run(["/usr/bin/cloud-init", "clean", "--logs", "--seed", "--machine-id"])
    actions.append("cloud-init clean --logs --seed --machine-id: rc %d" % rc_ci)
    if rc_ci != 0:
        errors.append("cloud-init clean failed (rc %d): %s" % (rc_ci, (out_ci + err_ci).strip()))

# ---- 1. deprovision ------------------------------------------------------------------------------------
users = [user for user in CONFIG["users"] if user and user != "root"]
ovf_present = os.path.isfile(os.path.join(WAAGENT_STATE, "ovf-env.xml"))
build_blobs = build_keys() if CONFIG["remove_build_keys"] else set()
waagent_argv = [CONFIG["waagent"], "-force", "-deprovision+user" if CONFIG["delete_user"] else "-deprovision"]
rc, out, err = run(waagent_argv)
waagent = {"command": waagent_argv, "rc": rc, "stdout_lines": out.splitlines(), "stderr_lines": err.splitlines()}

# The ovf-env.xml trap: waagent -deprovision+user deletes only the user named in ovf-env.xml, and when that file
# is missing (a second run, an image Azure did not provision, a recipe that ran `rm -rf /var/lib/waagent` first)
# prints "WARNING! Skip delete user." and exits 0 with the user still there. So the remaining build users are
# deleted here, after waagent, in the same command - rather than regenerating ovf-env.xml before waagent, which
# would mean fabricating a platform document that waagent validates (namespaces, version, ConfigurationSetType)
# in a format that can change with the agent version, where a mistake is silent again (rc 0, user kept).
# userdel after waagent is deterministic, also covers an ovf-env.xml naming another user, and the checks below
# prove the user is gone.
fallback = []
if CONFIG["delete_user"]:
    for user in users:
        if user_exists(user):
            rc_del, out_del, err_del = run(["userdel", "--force", "--remove", user])
            fallback.append(user)
            if rc_del not in (0, 12):  # 12: home directory could not be removed (checked below)
                errors.append(f"userdel {user} failed (rc {rc_del}): {err_del.strip()}")
    still_used = {entry.pw_dir for entry in pwd.getpwall()}
    for home in CONFIG["user_homes"]:
        if home and home not in ("/", "/root") and home not in still_used and os.path.lexists(home):
            remove(home)

# What waagent removes, removed again where its configuration or version may skip it.
if CONFIG["remove_ssh_host_keys"]:
    for path in glob.glob(SSH_HOST_KEY_GLOB):
        remove(path)
for pattern in LEASE_GLOBS:
    for path in glob.glob(pattern):
        if os.path.isfile(path) or os.path.islink(path):
            remove(path)
empty_dir(WAAGENT_STATE)
if CONFIG["lock_root_password"]:
    lock_root()
# After the last account change (userdel, usermod above).
if CONFIG["clean_account_backups"]:
    sync_account_backups()
if CONFIG["remove_build_keys"]:
    remove_build_keys(build_blobs)

# ---- 2. what waagent leaves ------------------------------------------------------------------------------
if CONFIG["clean_sudoers"] and CONFIG["delete_user"] and users:
    clean_sudoers(users)
if CONFIG["clean_histories"]:
    for home in homes():
        for name in CONFIG["history_files"]:
            remove(os.path.join(home, name))
if CONFIG["clean_ansible"]:
    for home in homes():
        remove(os.path.join(home, ".ansible"))
        remove(os.path.join(home, ".ansible_async"))
for path in CONFIG["extra_paths"]:
    for match in glob.glob(path):
        remove(match)
if CONFIG["clean_tmp"]:
    for directory in CONFIG["tmp_dirs"]:
        empty_dir(directory)
if CONFIG["reset_machine_id"]:
    # Empty, not missing: systemd's documented first-boot state ("uninitialized" on newer cloud-init).
    if os.path.islink("/etc/machine-id"):
        os.unlink("/etc/machine-id")
    with open("/etc/machine-id", "w"):
        pass
    os.chmod("/etc/machine-id", 0o444)
    if os.path.isdir("/var/lib/dbus"):
        dbus_id = "/var/lib/dbus/machine-id"
        if not (os.path.islink(dbus_id) and os.readlink(dbus_id) == "/etc/machine-id"):
            if os.path.lexists(dbus_id):
                os.unlink(dbus_id)
            os.symlink("/etc/machine-id", dbus_id)
            actions.append("linked /var/lib/dbus/machine-id to /etc/machine-id")
# The temporary disk: waagent.conf, its swap file, the fstab entries, cloud-init's drop-in.
TEMP_DISK = PLAN["temp_disk"]
apply_temp_disk(TEMP_DISK["mode"], TEMP_DISK["device_timeout"])
# Logs last: userdel, usermod and sudo above all log.
if CONFIG["clean_logs"]:
    clean_logs()
if CONFIG["clean_journal"]:
    clean_journal()

# ---- 3. verify ---------------------------------------------------------------------------------------------
checks = {}


def check(name, ok, detail=""):
    checks[name] = {"ok": bool(ok), "detail": detail}


def listing(paths):
    return sorted(path for path in paths if os.path.lexists(path))


check("waagent", waagent["rc"] == 0, f"rc {waagent['rc']}")
if CONFIG["delete_user"]:
    for user in users:
        in_files = []
        for path in ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/subuid", "/etc/subgid"):
            if os.path.isfile(path):
                with open(path) as handle:
                    for line in handle:
                        fields = line.rstrip("\n").split(":")
                        if fields[0] == user or (len(fields) > 3 and user in fields[3].split(",")):
                            in_files.append(path)
                            break
        check("user_absent:" + user, not in_files, ", ".join(in_files))
    for home in CONFIG["user_homes"]:
        check("home_absent:" + home, not os.path.lexists(home))
    if CONFIG["clean_sudoers"]:
        left = []
        for path in sudoers_files():
            with open(path) as handle:
                left += [f"{path}: {line.strip()}" for line in handle if rule_names_user(line, users)]
        check("sudoers_clean", not left, "; ".join(left))
if CONFIG["clean_account_backups"]:
    stale = [path + "-" for path in ACCOUNT_FILES
             if os.path.isfile(path + "-") and read_text(path + "-") != read_text(path)]
    check("account_backups_clean", not stale, " ".join(stale))
if CONFIG["remove_build_keys"]:
    left = [path for path in authorized_keys_files()
            if any(build_time_line(line, build_blobs) for line in read_text(path).splitlines())]
    check("build_keys_absent", not left, " ".join(left))
    if not CONFIG["delete_user"]:
        # The kept user's keys cannot be told apart without knowing the build key (no ovf-env.xml: a second run,
        # an image Azure did not provision): fail rather than leave the build key in the image unchecked.
        unknown = [] if build_blobs else kept_users_with_keys()
        check("build_keys_known", not unknown,
              f"no build key known (no ovf-env.xml, no deprovision_build_keys) but {', '.join(unknown)} kept "
              "authorized_keys: set deprovision_build_keys" if unknown else "")
check("ssh_host_keys_absent", not glob.glob(SSH_HOST_KEY_GLOB), " ".join(glob.glob(SSH_HOST_KEY_GLOB)))
leases = [path for pattern in LEASE_GLOBS for path in glob.glob(pattern) if not os.path.isdir(path)]
check("dhcp_leases_absent", not leases, " ".join(leases))
waagent_left = os.listdir(WAAGENT_STATE) if os.path.isdir(WAAGENT_STATE) else []
check("waagent_state_empty", not waagent_left, " ".join(waagent_left))
if CONFIG["check_cloud_init"]:
    cloud_left = [path for path in listing(CLOUD_STATE)
                  if not (os.path.isdir(path) and not os.listdir(path)) and not (
                      os.path.isfile(path) and os.path.getsize(path) == 0)]
    check("cloud_init_state_absent", not cloud_left, " ".join(cloud_left))
if CONFIG["reset_machine_id"]:
    size = os.path.getsize("/etc/machine-id") if os.path.isfile("/etc/machine-id") else None
    check("machine_id_empty", size == 0, f"size {size}")
    if os.path.isdir("/var/lib/dbus"):
        check("dbus_machine_id_linked", os.path.realpath("/var/lib/dbus/machine-id") == "/etc/machine-id")
if CONFIG["clean_histories"]:
    left = listing(os.path.join(home, name) for home in homes() for name in CONFIG["history_files"])
    check("histories_absent", not left, " ".join(left))
if CONFIG["clean_ansible"]:
    left = listing(os.path.join(home, name) for home in homes() for name in (".ansible", ".ansible_async"))
    check("ansible_leftovers_absent", not left, " ".join(left))
if CONFIG["clean_tmp"]:
    left = [os.path.join(d, name) for d in CONFIG["tmp_dirs"] if os.path.isdir(d) for name in os.listdir(d)]
    check("tmp_empty", not left, " ".join(sorted(left)[:20]))
if CONFIG["clean_logs"]:
    left = [path for path, name in log_files()
            if (CONFIG["remove_rotated_logs"] and matches(name, ROTATED))
            or (matches(name, CONFIG["log_truncate_patterns"]) and os.path.getsize(path) > 0)]
    check("logs_clean", not left, " ".join(sorted(left)[:20]))
if CONFIG["clean_journal"]:
    left = journal_leftovers()
    check("journal_clean", not left, " ".join(sorted(left)[:20]))
if CONFIG["lock_root_password"]:
    check("root_password_locked", root_locked())
extra_left = [match for path in CONFIG["extra_paths"] for match in glob.glob(path)]
check("extra_paths_absent", not extra_left, " ".join(extra_left))
# The temporary disk, read back from the guest's files: nothing left to change.
TEMP_DISK_AFTER = temp_disk_plan()
check("temp_disk_waagent_conf", not TEMP_DISK_AFTER["waagent_conf"], "; ".join(TEMP_DISK_AFTER["waagent_conf"]))
check("temp_disk_swap_file_absent", not TEMP_DISK_AFTER["swap_files"], " ".join(TEMP_DISK_AFTER["swap_files"]))
check("temp_disk_fstab", not TEMP_DISK_AFTER["fstab"], "; ".join(TEMP_DISK_AFTER["fstab"]))
if cloud_init_present():
    check("temp_disk_cloud_init_dropin", TEMP_DISK_AFTER["cloud_init_dropin"] is None, TEMP_DISK_DROPIN)
check("no_errors", not errors, "; ".join(errors))

failed = sorted(name for name, result in checks.items() if not result["ok"])
print(json.dumps({
    "ok": not failed,
    "failed": failed,
    "checks": checks,
    "waagent": waagent,
    "ovf_env_present": ovf_present,
    "users": users,
    "users_removed_by_role": [user for user in fallback if not user_exists(user)],
    "actions": actions,
    "temp_disk": {"mode": TEMP_DISK["mode"], "device_timeout": TEMP_DISK["device_timeout"],
                  "changes": TEMP_DISK["waagent_conf"] + ["removed " + path for path in TEMP_DISK["swap_files"]]
                  + TEMP_DISK["fstab"] + (["wrote " + TEMP_DISK_DROPIN] if TEMP_DISK["cloud_init_dropin"] else [])},
}))
sys.exit(0 if not failed else 3)
