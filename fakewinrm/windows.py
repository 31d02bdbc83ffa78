"""A small simulated Windows guest that answers the deprovision role's PowerShell steps.

It does not run PowerShell. Each script the role sends starts with a marker line
``# goldenimage-step: <step>`` and may carry its settings on a line
``$Config = '<json>' | ConvertFrom-Json`` (single quotes doubled inside). The double dispatches on the step,
applies it to the simulated state and prints what the real script prints on Windows: one line of JSON.
Scripts without a known marker exit 1 with a message on stderr (``UNKNOWN_SCRIPT_RC``).

The state (registry ImageState, services, files, per-user AppX packages, BitLocker volumes, Sysprep runs,
log reads, every command) is a plain dict, saved as JSON after every command when a state path is given.
See fakewinrm/README.md for the scenario keys and the step contract.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import shlex
import threading
import time

UNKNOWN_SCRIPT_RC = 1
CMD_LINE_LIMIT = 8191  # cmd.exe's limit; WinRS runs commands through cmd.exe unless WINRS_SKIP_CMD_SHELL

SETUP_STATE_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State"
SYSPREP_DIR = r"C:\Windows\System32\Sysprep"
SYSPREP_EXE = SYSPREP_DIR + r"\Sysprep.exe"
SETUPACT = SYSPREP_DIR + r"\Panther\setupact.log"
SETUPERR = SYSPREP_DIR + r"\Panther\setuperr.log"
SUCCEEDED_TAG = SYSPREP_DIR + r"\Sysprep_succeeded.tag"
CUSTOM_DATA = r"C:\AzureData\CustomData.bin"  # where Azure writes a Windows VM's custom data
BUILTIN_ADMIN_SID = "S-1-5-21-1004336348-1177238915-682003330-500"
ENV = {"systemroot": r"C:\Windows", "windir": r"C:\Windows", "systemdrive": "C:", "programdata": r"C:\ProgramData"}

GENERALIZED = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
COMPLETE = "IMAGE_STATE_COMPLETE"
SPECIALIZED = "IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE"

MARKER = re.compile(r"^\s*#\s*goldenimage-step:\s*([A-Za-z0-9_.-]+)\s*$", re.MULTILINE)
CONFIG = re.compile(r"^\s*\$Config\s*=\s*'((?:[^']|'')*)'\s*\|\s*ConvertFrom-Json\s*$", re.MULTILINE)
# The command line the sysprep-start script hands to Win32_Process.Create.
START_SYSPREP = re.compile(r'^\s*\$SysprepCommand\s*=\s*"([^"]*?Sysprep\.exe)\s+([^"]*)"\s*$', re.IGNORECASE | re.MULTILINE)

DEFAULT_SCENARIO = {
    "username": "gibuilder",
    "password": "Passw0rd!Passw0rd!",
    "computer_name": "build-vm",
    "image_state": COMPLETE,
    # agent-services polls during which Windows setup is still finishing (ImageState reads
    # IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE) before it turns to image_state; null: setup never finishes.
    "setup_polls": 0,
    # Services and the agent-services poll after which each one reports Running (0: already running,
    # null: never). A service absent from the map does not exist.
    "services": {"WindowsAzureGuestAgent": 0, "RdAgent": 0},
    "unattend_files": True,  # %SystemRoot%\System32\Sysprep\unattend.xml and %SystemRoot%\Panther\unattend.xml
    "panther_leftovers": True,  # setup logs under C:\Windows\Panther
    # Per-user AppX packages not provisioned for all users: [{"name", "full_name", "users": [...]}]
    "appx_per_user": [],
    "appx_removal_fails": [],  # full names whose Remove-AppxPackage fails
    # BitLocker volumes: [{"mount_point", "protection_status": On|Off|Unknown, "conversion_status": ...}]
    "bitlocker": [],
    "sysprep": {
        # generalize: ImageState becomes GENERALIZE_RESEAL_TO_OOBE after `polls` sysprep-state polls.
        # stop: Sysprep exits after `polls` polls leaving `final_state` (a state that never turns).
        # hang: Sysprep keeps running and ImageState stays where it is.
        "outcome": "generalize",
        "polls": 2,
        "final_state": "IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE",
        "errors": [],  # lines Sysprep appends to setuperr.log when it does not generalize
    },
    # The admin account the VM was created with: Azure renames the built-in Administrator (RID 500, which cannot be
    # deleted, only disabled) to osProfile.adminUsername; false makes it a regular local account.
    "build_account_builtin": True,
    "extra_accounts": [],  # more (regular) local accounts
    "account_change_lost": False,  # the detached account change never happens (the process dies)
    "custom_data": True,  # C:\AzureData\CustomData.bin, as Azure writes it for a VM with custom data
    "setupact_log": ["Info [0x0f004d] SYSPRP The time is now 2026-11-26 01:00:00"],
    "setuperr_log": [],
}

APPX_ERROR = ("Error SYSPRP Package {name} was installed for a user, but not provisioned for all users. "
              "This package will not function properly in the sysprep image.")
BITLOCKER_ERROR = ("Error [0x0f0082] SYSPRP BitLocker-Sysprep: BitLocker is on for the OS volume. Turn BitLocker off "
                   "to run Sysprep. (0x80310039)")


def _merge(base, extra):
    out = copy.deepcopy(base)
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "services":
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def expand(path):
    """Expand %VAR% the way [Environment]::ExpandEnvironmentVariables does for the few variables we know."""
    return re.sub(r"%([^%]+)%", lambda m: ENV.get(m.group(1).lower(), m.group(0)), path)


def _norm(path):
    return expand(path).rstrip("\\").lower()


def decode_command_line(command_line):
    """Return (script, error) for a WinRS command line; script None when it is not an encoded PowerShell command."""
    try:
        parts = shlex.split(command_line, posix=False)
    except ValueError:
        parts = command_line.split()
    if not parts or not parts[0].lower().rstrip('"').endswith(("powershell", "powershell.exe", "pwsh", "pwsh.exe")):
        return None, f"'{parts[0] if parts else ''}' is not recognized as an internal or external command"
    lowered = [part.lower() for part in parts]
    for flag in ("-encodedcommand", "-enc", "-e", "-ec"):
        if flag in lowered:
            index = lowered.index(flag)
            if index + 1 >= len(parts):
                return None, "-EncodedCommand needs a value"
            try:
                return base64.b64decode(parts[index + 1]).decode("utf-16-le"), None
            except (ValueError, UnicodeDecodeError) as err:
                return None, f"cannot decode -EncodedCommand: {err}"
    if "-command" in lowered and lowered[lowered.index("-command") + 1:lowered.index("-command") + 2] == ["-"]:
        return "", None  # the script comes on stdin
    return None, "only -EncodedCommand and -Command - are supported by fakewinrm"


def parse_script(script):
    """(step, config) of a role script; step None without a marker."""
    marker = MARKER.search(script or "")
    if not marker:
        return None, {}
    found = CONFIG.search(script)
    config = json.loads(found.group(1).replace("''", "'")) if found else {}
    return marker.group(1), config


class FakeWindows:
    """The simulated guest. ``scenario``: dict (see DEFAULT_SCENARIO); ``state_path``: JSON file to keep state in."""

    def __init__(self, scenario=None, state_path=None):
        self.lock = threading.RLock()
        self.state_path = state_path
        self.scenario = _merge(DEFAULT_SCENARIO, scenario)
        self.state = self._initial_state()
        self.save()

    # -- state ------------------------------------------------------------------------------------------
    def _initial_state(self):
        sc = self.scenario
        files = {}
        if sc["unattend_files"]:
            files[SYSPREP_DIR + r"\unattend.xml"] = "<unattend/>"
            files[r"C:\Windows\Panther\unattend.xml"] = "<unattend/>"
        if sc["panther_leftovers"]:
            files[r"C:\Windows\Panther\setupact.log"] = "setup log from the image build\n"
            files[r"C:\Windows\Panther\UnattendGC\setupact.log"] = "\n"
        files[SYSPREP_EXE] = "MZ"
        if sc["custom_data"]:
            files[CUSTOM_DATA] = "#cloud-config from osProfile.customData\n"
        for name in [sc["username"], *sc["extra_accounts"]]:
            files[rf"C:\Users\{name}\NTUSER.DAT"] = "regf"
        files[SETUPACT] = "".join(line + "\n" for line in sc["setupact_log"])
        files[SETUPERR] = "".join(line + "\n" for line in sc["setuperr_log"])
        return {
            "scenario": sc,
            "credentials": {"username": sc["username"], "password": sc["password"], "source": "scenario"},
            "provisioned": None,
            "registry": {SETUP_STATE_KEY: {"ImageState": sc["image_state"] if sc["setup_polls"] == 0 else SPECIALIZED}},
            "setup": {"polls": 0, "finished": sc["setup_polls"] == 0},
            "services": {name: {"status": "Running" if after == 0 else "Stopped", "start_type": "Automatic",
                                "running_after_polls": after, "polls": 0}
                         for name, after in sc["services"].items()},
            "files": files,
            "appx": {"per_user": copy.deepcopy(sc["appx_per_user"]), "removed": []},
            "bitlocker": copy.deepcopy(sc["bitlocker"]),
            "sysprep": {"invocations": [], "running": False, "polls": 0, "state_polls": 0},
            "logs_read": [],
            "steps": [],  # [{"step", "config", "rc"}] in order
            "rejected": [],  # commands the double did not recognise: [{"reason", "head"}]
            "shells": {"opened": 0, "deleted": 0, "commands": 0, "signals": 0},
            # Local accounts: name -> {"sid", "enabled", "password_reset", "profile"}. Basic auth takes only an
            # existing, enabled account with its password unchanged.
            "accounts": dict({name: self._account(name, False) for name in sc["extra_accounts"]},
                             **{sc["username"]: self._account(sc["username"], sc["build_account_builtin"])}),
            # An account change the build-account step deferred until its WinRM shell is gone, then what was done.
            "account_pending": None,
            "account_actions": [],
        }

    @staticmethod
    def _account(name, builtin):
        rid = 500 if builtin else 1001 + sum(map(ord, name)) % 8000
        return {"sid": BUILTIN_ADMIN_SID[:-3] + str(rid), "enabled": True, "password_reset": False,
                "profile": rf"C:\Users\{name}"}

    def _find_account(self, name):
        return next((key for key in self.state["accounts"] if key.lower() == str(name or "").lower()), None)

    def save(self):
        if not self.state_path:
            return
        with self.lock:
            tmp = f"{self.state_path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(self.state, handle, indent=1, sort_keys=True)
            os.replace(tmp, self.state_path)

    def snapshot(self):
        with self.lock:
            return copy.deepcopy(self.state)

    def credentials(self):
        """(username, password) Basic auth accepts: what the VM was provisioned with, else the scenario's."""
        provisioned = self._provisioned_file()
        with self.lock:
            if provisioned and provisioned != self.state["provisioned"]:
                self.state["provisioned"] = provisioned
                old = self._find_account(self.state["credentials"]["username"])
                self.state["credentials"] = {"username": provisioned.get("admin_username"),
                                             "password": provisioned.get("admin_password"), "source": "provisioning"}
                # Azure renames the admin account (the built-in Administrator) to adminUsername.
                new = provisioned.get("admin_username")
                if old is not None and new:
                    account = self.state["accounts"].pop(old)
                    account["profile"] = rf"C:\Users\{new}"
                    self.state["accounts"][new] = account
                    prefix, renamed = "C:\\Users\\" + old + "\\", "C:\\Users\\" + new + "\\"
                    for name in [name for name in self.state["files"] if name.startswith(prefix)]:
                        self.state["files"][renamed + name[len(prefix):]] = self.state["files"].pop(name)
                self.save()
            user = self.state["credentials"]["username"]
            account = self.state["accounts"].get(self._find_account(user))
            if account is None or not account["enabled"] or account["password_reset"]:
                return user, None  # removed, disabled or its password scrambled: every logon is refused
            return user, self.state["credentials"]["password"]

    def _provisioned_file(self):
        if not self.state_path:
            return None
        path = os.path.join(os.path.dirname(self.state_path), "provisioned.json")
        try:
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def count(self, key):
        with self.lock:
            self.state["shells"][key] += 1
            if key == "deleted" and self.state["account_pending"]:
                # The WinRM shell that asked for it is gone: the detached process does its work now.
                pending, self.state["account_pending"] = self.state["account_pending"], None
                if self.scenario["account_change_lost"]:
                    self.state["account_actions"].append(dict(pending, result="lost"))
                else:
                    self._apply_account(pending)
                self.save()

    # -- commands ---------------------------------------------------------------------------------------
    def run(self, command_line, stdin=b""):
        """Run one WinRS command; returns (rc, stdout bytes, stderr bytes)."""
        with self.lock:
            try:
                return self._run(command_line, stdin)
            finally:
                self.save()

    def _reject(self, reason, head):
        self.state["rejected"].append({"reason": reason, "head": head[:200]})
        return UNKNOWN_SCRIPT_RC, b"", f"fakewinrm: {reason}\r\n".encode()

    def _run(self, command_line, stdin):
        if len(command_line) > CMD_LINE_LIMIT:
            return self._reject(f"The command line is too long ({len(command_line)} > {CMD_LINE_LIMIT} characters).",
                                command_line)
        script, error = decode_command_line(command_line)
        if script is None:
            return self._reject(error, command_line)
        if script == "":
            script = stdin.decode("utf-8", "replace")
        step, config = parse_script(script)
        handler = getattr(self, "step_" + (step or "").replace("-", "_"), None)
        if step is None or handler is None:
            reason = (f"unknown goldenimage step '{step}'" if step else
                      "unrecognised script: no '# goldenimage-step: <name>' marker")
            return self._reject(reason, script)
        rc, out = handler(config, script)
        self.state["steps"].append({"step": step, "config": config, "rc": rc, "time": time.time()})
        if isinstance(out, (dict, list)):
            out = json.dumps(out, separators=(",", ":"))
        return rc, (out + "\r\n").encode("utf-8"), b""

    # -- steps (each mirrors roles/deprovision/files/<step>.ps1) ------------------------------------------
    def step_agent_services(self, config, _script):
        setup = self.state["setup"]
        if not setup["finished"]:
            setup["polls"] += 1
            after = self.scenario["setup_polls"]
            if after is not None and setup["polls"] >= after:
                setup["finished"] = True
                self.state["registry"][SETUP_STATE_KEY]["ImageState"] = self.scenario["image_state"]
        services = []
        for name in config.get("services", []):
            svc = self.state["services"].get(name)
            if svc is None:
                services.append({"name": name, "status": "NotFound", "start_type": None})
                continue
            svc["polls"] += 1
            after = svc["running_after_polls"]
            if svc["status"] != "Running" and after is not None and svc["polls"] >= after:
                svc["status"] = "Running"
            elif svc["status"] != "Running":
                svc["status"] = "StartPending" if after is None else "Stopped"
            services.append({"name": name, "status": svc["status"], "start_type": svc["start_type"]})
        return 0, {"image_state": self.state["registry"][SETUP_STATE_KEY]["ImageState"], "services": services}

    def _account_facts(self, name):
        key = self._find_account(name)
        account = self.state["accounts"].get(key)
        return {"name": key or name, "exists": account is not None,
                "enabled": bool(account and account["enabled"]),
                "builtin": bool(account and account["sid"].endswith("-500")),
                "connection_user": str(name or "").lower() == str(self.state["credentials"]["username"]).lower()}

    def _apply_account(self, pending):
        key = self._find_account(pending["user"])
        account = self.state["accounts"].get(key)
        done = {"user": pending["user"], "action": pending["action"], "deferred": pending["deferred"],
                "result": "missing"}
        if account is not None:
            if pending["action"] == "remove":
                del self.state["accounts"][key]
            else:
                account["enabled"] = False
                account["password_reset"] = True
            profile = account["profile"].lower() + "\\"
            for name in [name for name in self.state["files"] if name.lower().startswith(profile)]:
                del self.state["files"][name]
            done["result"] = pending["action"] + "d"
        self.state["account_actions"].append(done)

    def step_build_account(self, config, _script):
        """Mirrors build-account.ps1: remove (a regular account) or disable (with a random password) the build
        account and delete its profile; for the account this WinRM session runs as, deferred to a detached process
        that starts once the shell is gone."""
        facts = self._account_facts(config.get("user"))
        if not facts["exists"]:
            return self._fail(f"Get-LocalUser : User {config.get('user')} was not found.")
        action = "remove" if config.get("action") == "remove" and not facts["builtin"] else "disable"
        pending = {"user": facts["name"], "action": action, "deferred": facts["connection_user"],
                   "delay": config.get("delay")}
        if facts["connection_user"]:
            self.state["account_pending"] = pending
        else:
            self._apply_account(pending)
        after = self._account_facts(facts["name"])
        return 0, {"user": facts["name"], "builtin": facts["builtin"], "action": action,
                   "deferred": facts["connection_user"], "pid": 5151 if facts["connection_user"] else None,
                   "exists": after["exists"], "enabled": after["enabled"]}

    def step_build_account_check(self, config, _script):
        facts = self._account_facts(config.get("user"))
        return 0, {"user": facts["name"], "exists": facts["exists"], "enabled": facts["enabled"]}

    def step_preflight(self, config, _script):
        return 0, {
            "build_account": self._account_facts(config["build_user"]) if config.get("build_user") else None,
            "image_state": self.state["registry"][SETUP_STATE_KEY]["ImageState"],
            "appx_per_user": [{"name": p["name"], "full_name": p["full_name"], "users": p.get("users", [])}
                              for p in self.state["appx"]["per_user"]],
            "bitlocker": [{"mount_point": v["mount_point"], "protection_status": v.get("protection_status", "On"),
                           "conversion_status": v.get("conversion_status", "FullyEncrypted")}
                          for v in self.state["bitlocker"]],
            "sysprep_present": SYSPREP_EXE in self.state["files"],
            "sysprep_running": self.state["sysprep"]["running"],
        }

    def step_appx_remove(self, config, _script):
        removed, failed = [], []
        fails = set(self.scenario["appx_removal_fails"])
        for full_name in config.get("packages", []):
            package = next((p for p in self.state["appx"]["per_user"] if p["full_name"] == full_name), None)
            if package is None:
                continue
            if full_name in fails:
                failed.append({"full_name": full_name, "error": "Deployment failed with HRESULT: 0x80073CFA"})
                continue
            self.state["appx"]["per_user"].remove(package)
            self.state["appx"]["removed"].append(full_name)
            removed.append(full_name)
        return 0, {"removed": removed, "failed": failed}

    def step_cleanup(self, config, _script):
        removed, failed, remaining = [], [], []
        for path in config.get("paths", []) + [SUCCEEDED_TAG]:
            target = _norm(path)
            hits = [name for name in self.state["files"]
                    if name.lower() == target or name.lower().startswith(target + "\\")]
            for name in hits:
                del self.state["files"][name]
            if hits:
                removed.append(expand(path))
        for path in config.get("paths", []):
            target = _norm(path)
            if any(name.lower() == target or name.lower().startswith(target + "\\") for name in self.state["files"]):
                remaining.append(expand(path))
        return 0, {"removed": removed, "failed": failed, "remaining": remaining}

    def step_sysprep_start(self, _config, script):
        found = START_SYSPREP.search(script)
        if not found:
            return self._fail('sysprep-start script has no line $SysprepCommand = "<...>Sysprep.exe <arguments>"')
        exe = expand(re.sub(r"\$env:(\w+)", r"%\1%", found.group(1)))
        arguments = found.group(2).split()
        sysprep = self.state["sysprep"]
        if sysprep["running"]:
            return self._fail("Sysprep is already running")
        if exe.lower() != SYSPREP_EXE.lower() or exe not in self.state["files"]:
            return self._fail(f"The system cannot find the file specified: {exe}")
        invocation = {
            "path": exe,
            "arguments": arguments,
            "image_state_before": self.state["registry"][SETUP_STATE_KEY]["ImageState"],
            "files_present": sorted(self.state["files"]),
            "appx_per_user": [p["full_name"] for p in self.state["appx"]["per_user"]],
            "bitlocker_on": [v["mount_point"] for v in self.state["bitlocker"] if v.get("protection_status") != "Off"],
            "services": {name: svc["status"] for name, svc in self.state["services"].items()},
        }
        sysprep["invocations"].append(invocation)
        sysprep["running"] = True
        sysprep["polls"] = 0
        self._log(SETUPACT, f"Info SYSPRP ========== Sysprep started: {' '.join(arguments)} ==========")
        return 0, {"pid": 4242 + len(sysprep["invocations"]), "command": f"{exe} {' '.join(arguments)}"}

    def _fail(self, message):
        return 1, {"error": message}

    def _log(self, path, line):
        self.state["files"][path] = self.state["files"].get(path, "") + line + "\n"

    def _finish_sysprep(self):
        """Sysprep's outcome once its polls are due, as real Windows would decide it."""
        sysprep = self.state["sysprep"]
        invocation = sysprep["invocations"][-1]
        behaviour = self.scenario["sysprep"]
        args = {arg.lower() for arg in invocation["arguments"]}
        errors = []
        if invocation["appx_per_user"]:
            errors += [APPX_ERROR.format(name=name) for name in invocation["appx_per_user"]]
        if invocation["bitlocker_on"]:
            errors.append(BITLOCKER_ERROR)
        if "/generalize" not in args or "/oobe" not in args:
            errors.append("Error SYSPRP the fake only generalizes with /generalize /oobe")
        sysprep["running"] = False
        key = self.state["registry"][SETUP_STATE_KEY]
        if errors:  # what Windows does with these blockers: Sysprep stops, the state stays COMPLETE
            key["ImageState"] = COMPLETE
            for line in errors:
                self._log(SETUPACT, line)
                self._log(SETUPERR, line)
            self._log(SETUPACT, "Error SYSPRP Sysprep_Generalize_Validate failed; Sysprep will stop (0x80073cf2)")
        elif behaviour["outcome"] == "generalize":
            key["ImageState"] = GENERALIZED
            self.state["files"][SUCCEEDED_TAG] = ""
            self._log(SETUPACT, "Info SYSPRP Sysprep completed the generalize pass; shutting down is left to the caller (/quit)")
        else:
            key["ImageState"] = behaviour["final_state"]
            for line in behaviour["errors"]:
                self._log(SETUPERR, line)
            self._log(SETUPACT, f"Error SYSPRP Sysprep stopped with ImageState {behaviour['final_state']}")

    def step_sysprep_state(self, _config, _script):
        sysprep = self.state["sysprep"]
        sysprep["state_polls"] += 1
        if sysprep["running"]:
            sysprep["polls"] += 1
            if self.scenario["sysprep"]["outcome"] != "hang" and sysprep["polls"] >= self.scenario["sysprep"]["polls"]:
                self._finish_sysprep()
        return 0, {
            "image_state": self.state["registry"][SETUP_STATE_KEY]["ImageState"],
            "sysprep_running": sysprep["running"],
            "succeeded_tag": SUCCEEDED_TAG in self.state["files"],
        }

    def step_sysprep_logs(self, config, _script):
        lines = int(config.get("lines", 40))
        out = {}
        for key, path in (("setupact", SETUPACT), ("setuperr", SETUPERR)):
            self.state["logs_read"].append(path)
            text = self.state["files"].get(path)
            out[key] = None if text is None else text.splitlines()[-lines:]
        return 0, out
