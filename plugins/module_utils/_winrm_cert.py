# Copyright (c) goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-build WinRM HTTPS certificate (issue 10).

The builder generates the private key on the controller; :func:`issue` self-signs a short-lived certificate for it
once the build VM's public address exists (before the VM), with the address and the computer name as SANs, so the
controller can trust exactly that one certificate (``ca_trust_path``) with hostname checks on. :func:`custom_data`
wraps it, as a passwordless PKCS#12, in a PowerShell first-boot script that imports it and creates the 5986
listener; the script travels as custom data (never logged) and the deprovision role removes CustomData.bin.
Azure runs no custom data by itself: :func:`create_winrm_listener` runs it once through the VM's Run Command
(``RunPowerShellScript`` reading ``C:\\AzureData\\CustomData.bin``, so the key is not sent a second time).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import re
import time

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError, retry_action, wait_for

# Marks the script (fakewinrm's provisioning reads the PKCS#12 from the $Pfx line).
MARKER = "# goldenimage-winrm-listener"
VALIDITY_HOURS = 24
# The run command body: it reads the script from where Azure writes custom data on Windows (no key in the body).
RUN_COMMAND_SCRIPT = ("Get-Content -LiteralPath C:\\AzureData\\CustomData.bin -Raw | Invoke-Expression",)
_LONG_BASE64 = re.compile(r"[A-Za-z0-9+/=]{48,}")


def _crypto():
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.serialization import pkcs12
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError as err:  # pragma: no cover - azure-identity depends on cryptography
        raise AzureError(f"winrm_private_key needs the Python 'cryptography' package on the controller: {err}",
                         operation="issue the WinRM certificate")
    return x509, hashes, serialization, pkcs12, ExtendedKeyUsageOID, NameOID


def issue(private_key_pem, address, computer_name, hours=VALIDITY_HOURS):
    """(certificate PEM, SHA-1 thumbprint as Windows shows it, PKCS#12 bytes) for ``private_key_pem``."""
    x509, hashes, serialization, pkcs12, eku, name_oid = _crypto()
    try:
        key = serialization.load_pem_private_key(str(private_key_pem).encode(), password=None)
    except (ValueError, TypeError) as err:
        raise AzureError(f"winrm_private_key must be an unencrypted PEM private key (RSA or EC): {err}",
                         operation="issue the WinRM certificate")
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(name_oid.COMMON_NAME, str(computer_name))])
    names = [x509.DNSName(str(computer_name))]
    if address:
        names.append(x509.IPAddress(ipaddress.ip_address(address)))
    public = key.public_key()
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=hours))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, content_commitment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([eku.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    thumbprint = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    pfx = pkcs12.serialize_key_and_certificates(b"goldenimage-winrm", key, cert, None,
                                                serialization.NoEncryption())
    return pem, thumbprint, pfx


def custom_data(pfx, thumbprint, port=5986):
    """Base64 custom data: a PowerShell script that installs the certificate and the WinRM HTTPS listener.

    Azure writes custom data to C:\\AzureData\\CustomData.bin and runs nothing; :func:`create_winrm_listener` runs it
    once through a run command (RunPowerShellScript,
    ``Get-Content -LiteralPath C:\\AzureData\\CustomData.bin -Raw | Invoke-Expression``).
    """
    script = "\r\n".join([
        MARKER,
        f"$Thumbprint = '{thumbprint}'",
        f"$Pfx = '{base64.b64encode(pfx).decode()}'",
        "$Path = Join-Path $env:TEMP 'goldenimage-winrm.pfx'",
        "[IO.File]::WriteAllBytes($Path, [Convert]::FromBase64String($Pfx))",
        "try { Import-PfxCertificate -FilePath $Path -CertStoreLocation Cert:\\LocalMachine\\My | Out-Null }",
        "finally { Remove-Item -LiteralPath $Path -Force }",
        "Get-ChildItem WSMan:\\localhost\\Listener | Where-Object { $_.Keys -contains 'Transport=HTTPS' } |"
        " Remove-Item -Recurse -Force",
        "New-Item -Path WSMan:\\localhost\\Listener -Transport HTTPS -Address * -CertificateThumbPrint $Thumbprint"
        " -Force | Out-Null",
        f"New-NetFirewallRule -Name goldenimage-winrm-https -DisplayName 'WinRM HTTPS' -Direction Inbound"
        f" -Protocol TCP -LocalPort {port} -Action Allow | Out-Null",
        "",
    ])
    return base64.b64encode(script.encode("utf-8")).decode()


def _statuses(result):
    if result is None:
        return []
    if not isinstance(result, dict):
        result = result.as_dict()
    return list(result.get("value") or [])


def create_winrm_listener(compute, resource_group, vm_name, timeout):
    """Run the custom-data script once through the VM's Run Command (``RunPowerShellScript``), at most ``timeout`` s.

    The script imports the per-build certificate and creates the 5986 HTTPS listener and its firewall rule. A failed
    run command, or one whose ``ComponentStatus/StdErr`` is not empty, raises AzureError naming the operation (long
    base64 runs - what could be the PKCS#12 - are cut from the quoted output). Returns the StdOut text.
    """
    operation = f"run command to create the WinRM HTTPS listener on VM '{vm_name}'"
    deadline = time.monotonic() + float(timeout)
    body = {"commandId": "RunPowerShellScript", "script": list(RUN_COMMAND_SCRIPT)}
    # repeatable: the script replaces any HTTPS listener it finds, so a run sent twice leaves one listener
    poller = retry_action(operation, compute.virtual_machines.begin_run_command, resource_group, vm_name, body,
                          timeout=timeout, repeatable=True)
    statuses = _statuses(wait_for(poller, operation, max(1, deadline - time.monotonic())))
    stdout = ""
    for status in statuses:
        code = str(status.get("code") or "")
        message = str(status.get("message") or "").strip()
        if code.startswith("ComponentStatus/StdOut"):
            stdout = message
        failed = "/failed" in code.lower() or str(status.get("level") or "").lower() == "error"
        if failed or (code.startswith("ComponentStatus/StdErr") and message):
            detail = _LONG_BASE64.sub("<cut>", message)[:2000] or code
            raise AzureError(f"{operation} failed ({code}): {detail}", code="RunCommandFailed", operation=operation)
    return stdout
