"""A WS-Management / WinRS endpoint over HTTP with Basic auth (aiohttp), enough for pywinrm and Ansible's
``winrm`` connection plugin: Create shell, Command, Send, Receive, Signal, Delete.

Commands run against a :class:`fakewinrm.windows.FakeWindows`. ``GET /_fakewinrm/state`` returns its state.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import threading
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from aiohttp import web

from .windows import FakeWindows

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
}
SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
ACTIONS = {
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create": "create",
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete": "delete",
    SHELL_URI + "/Command": "command",
    SHELL_URI + "/Send": "send",
    SHELL_URI + "/Receive": "receive",
    SHELL_URI + "/Signal": "signal",
}
DONE = SHELL_URI + "/CommandState/Done"


def _envelope(action, relates_to, body):
    return (
        f'<s:Envelope xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:x="{NS["x"]}" xmlns:w="{NS["w"]}" '
        f'xmlns:rsp="{NS["rsp"]}" xml:lang="en-US"><s:Header>'
        f"<a:Action>{action}</a:Action><a:MessageID>uuid:{uuid.uuid4()}</a:MessageID>"
        f"<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:RelatesTo>{escape(relates_to or '')}</a:RelatesTo></s:Header><s:Body>{body}</s:Body></s:Envelope>"
    )


def _fault(relates_to, code, reason, wsman_code):
    body = (
        f'<s:Fault><s:Code><s:Value>s:{code}</s:Value><s:Subcode><s:Value>w:InvalidSelectors</s:Value></s:Subcode>'
        f'</s:Code><s:Reason><s:Text xml:lang="en-US">{escape(reason)}</s:Text></s:Reason><s:Detail>'
        f'<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="{wsman_code}" '
        f'Machine="fakewinrm"><f:Message>{escape(reason)}</f:Message></f:WSManFault></s:Detail></s:Fault>'
    )
    return web.Response(status=500, body=_envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body),
                        content_type="application/soap+xml", charset="utf-8")


class Shell:
    def __init__(self):
        self.id = str(uuid.uuid4()).upper()
        self.commands = {}


class Command:
    def __init__(self, command_line, console_mode_stdin):
        self.id = str(uuid.uuid4()).upper()
        self.command_line = command_line
        self.wants_stdin = not console_mode_stdin or command_line.rstrip().endswith("-Command -")
        self.stdin = b""
        self.stdin_done = False
        self.result = None  # (rc, stdout, stderr)


class WinRMApp:
    def __init__(self, windows: FakeWindows):
        self.windows = windows
        self.shells = {}

    def _authorized(self, request):
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        want_user, want_password = self.windows.credentials()
        return user.lower() == str(want_user).lower() and password == want_password

    async def state(self, _request):
        return web.json_response(self.windows.snapshot())

    async def wsman(self, request):
        if not self._authorized(request):
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="WSMAN"'})
        try:
            root = ET.fromstring(await request.read())
        except ET.ParseError as err:
            return web.Response(status=400, text=f"bad XML: {err}")
        action = root.findtext("s:Header/a:Action", default="", namespaces=NS)
        message_id = root.findtext("s:Header/a:MessageID", default="", namespaces=NS)
        shell_id = None
        for selector in root.findall("s:Header/w:SelectorSet/w:Selector", NS):
            if selector.get("Name") == "ShellId":
                shell_id = selector.text
        body = root.find("s:Body", NS)
        kind = ACTIONS.get(action)
        if kind is None:
            return _fault(message_id, "Sender", f"fakewinrm does not implement action {action}", 2150858770)
        if kind == "create":
            return self._create(message_id, request)
        shell = self.shells.get(shell_id)
        if shell is None:
            return _fault(message_id, "Sender", "The request for the Windows Remote Shell with ShellId "
                          f"{shell_id} failed because the shell was not found on the server.", 2150858843)
        return getattr(self, "_" + kind)(message_id, shell, body, root)

    def _reply(self, action, message_id, body):
        return web.Response(body=_envelope(action, message_id, body), content_type="application/soap+xml",
                            charset="utf-8")

    def _create(self, message_id, request):
        shell = Shell()
        self.shells[shell.id] = shell
        self.windows.count("opened")
        address = f"http://{request.host}/wsman"
        body = (f"<x:ResourceCreated><a:Address>{escape(address)}</a:Address><a:ReferenceParameters>"
                f"<w:ResourceURI>{SHELL_URI}/cmd</w:ResourceURI><w:SelectorSet>"
                f'<w:Selector Name="ShellId">{shell.id}</w:Selector></w:SelectorSet></a:ReferenceParameters>'
                f"</x:ResourceCreated><rsp:Shell><rsp:ShellId>{shell.id}</rsp:ShellId>"
                f"<rsp:ResourceUri>{SHELL_URI}/cmd</rsp:ResourceUri><rsp:InputStreams>stdin</rsp:InputStreams>"
                f"<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>")
        return self._reply("http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse", message_id, body)

    def _delete(self, message_id, shell, _body, _root):
        self.shells.pop(shell.id, None)
        self.windows.count("deleted")
        return self._reply("http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", message_id, "")

    def _command(self, message_id, shell, body, root):
        line = body.find("rsp:CommandLine", NS)
        command = (line.findtext("rsp:Command", default="", namespaces=NS) or "").strip()
        arguments = (line.findtext("rsp:Arguments", default="", namespaces=NS) or "").strip()
        console_mode = True
        for option in root.findall("s:Header/w:OptionSet/w:Option", NS):
            if option.get("Name") == "WINRS_CONSOLEMODE_STDIN":
                console_mode = (option.text or "").upper() == "TRUE"
        cmd = Command(f"{command} {arguments}".strip(), console_mode)
        shell.commands[cmd.id] = cmd
        self.windows.count("commands")
        body = f"<rsp:CommandResponse><rsp:CommandId>{cmd.id}</rsp:CommandId></rsp:CommandResponse>"
        return self._reply(SHELL_URI + "/CommandResponse", message_id, body)

    def _send(self, message_id, shell, body, _root):
        stream = body.find("rsp:Send/rsp:Stream", NS)
        cmd = shell.commands.get(stream.get("CommandId"))
        if cmd is None:
            return _fault(message_id, "Sender", "unknown CommandId", 2150858843)
        cmd.stdin += base64.b64decode(stream.text or "")
        if (stream.get("End") or "").lower() == "true":
            cmd.stdin_done = True
        return self._reply(SHELL_URI + "/SendResponse", message_id, "<rsp:SendResponse/>")

    def _receive(self, message_id, shell, body, _root):
        desired = body.find("rsp:Receive/rsp:DesiredStream", NS)
        cmd = shell.commands.get(desired.get("CommandId"))
        if cmd is None:
            return _fault(message_id, "Sender", "unknown CommandId", 2150858843)
        if cmd.result is None:
            if cmd.wants_stdin and not cmd.stdin_done:
                # What WinRS answers when a Receive finds no output within the operation timeout.
                return _fault(message_id, "Receiver", "The WS-Management service cannot complete the operation "
                              "within the time specified in OperationTimeout.", 2150858793)
            cmd.result = self.windows.run(cmd.command_line, cmd.stdin)
        rc, out, err = cmd.result
        streams = (f'<rsp:Stream Name="stdout" CommandId="{cmd.id}">{base64.b64encode(out).decode()}</rsp:Stream>'
                   f'<rsp:Stream Name="stdout" CommandId="{cmd.id}" End="true"></rsp:Stream>'
                   f'<rsp:Stream Name="stderr" CommandId="{cmd.id}">{base64.b64encode(err).decode()}</rsp:Stream>'
                   f'<rsp:Stream Name="stderr" CommandId="{cmd.id}" End="true"></rsp:Stream>')
        body = (f"<rsp:ReceiveResponse>{streams}<rsp:CommandState CommandId=\"{cmd.id}\" State=\"{DONE}\">"
                f"<rsp:ExitCode>{rc}</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>")
        return self._reply(SHELL_URI + "/ReceiveResponse", message_id, body)

    def _signal(self, message_id, shell, body, _root):
        signal = body.find("rsp:Signal", NS)
        shell.commands.pop(signal.get("CommandId"), None)
        self.windows.count("signals")
        return self._reply(SHELL_URI + "/SignalResponse", message_id, "<rsp:SignalResponse/>")

    def build(self):
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/wsman", self.wsman)
        app.router.add_get("/_fakewinrm/state", self.state)
        return app


def tls_context(address, cert_dir=None):
    """A server TLS context with a certificate for ``address`` from a throw-away CA (trustme, a test dependency).

    Returns (context, ca_pem_path or None). WinRM over HTTPS (5986) as the builder role reaches it."""
    import ssl

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert(address, "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca_path = None
    if cert_dir:
        ca_path = os.path.join(cert_dir, "ca.pem")
        ca.cert_pem.write_to_path(ca_path)
    return context, ca_path


CERT_FILE, KEY_FILE = "winrm-cert.pem", "winrm-key.pem"  # the per-build certificate, written at provisioning


def _rekeyed(cert_pem):
    """A certificate with the same subject, names and dates as ``cert_pem`` but a new key: what an impostor (or a
    re-keyed guest) would serve. Returns (cert PEM, key PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    original = x509.load_pem_x509_certificate(cert_pem)
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder().subject_name(original.subject).issuer_name(original.issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(original.not_valid_before_utc).not_valid_after(original.not_valid_after_utc))
    for extension in original.extensions:
        if extension.oid == x509.oid.ExtensionOID.SUBJECT_KEY_IDENTIFIER:
            extension = x509.Extension(extension.oid, False, x509.SubjectKeyIdentifier.from_public_key(key.public_key()))
        elif extension.oid == x509.oid.ExtensionOID.AUTHORITY_KEY_IDENTIFIER:
            extension = x509.Extension(extension.oid, False,
                                       x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()))
        builder = builder.add_extension(extension.value, extension.critical)
    cert = builder.sign(key, hashes.SHA256())
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def provisioned_tls(context, state_dir, rekey=False):
    """Serve the certificate the VM was provisioned with (STATE_DIR/winrm-cert.pem, from custom data) once it exists:
    an SNI callback swaps the handshake's context, so the listener changes certificate without a restart, as a
    Windows listener does once its first-boot script ran. ``rekey`` serves a look-alike with another key instead."""
    import ssl

    cache = {}

    def pick(sslobj, _server_name, _context):
        cert_path, key_path = os.path.join(state_dir, CERT_FILE), os.path.join(state_dir, KEY_FILE)
        try:
            stamp = os.stat(cert_path).st_mtime_ns
        except OSError:
            return None  # not provisioned yet: the start-up certificate
        if cache.get("stamp") != stamp:
            chosen = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            if rekey:
                with open(cert_path, "rb") as handle:
                    cert_pem, key_pem = _rekeyed(handle.read())
                cert_path = key_path = os.path.join(state_dir, "winrm-rekeyed.pem")
                with open(cert_path, "wb") as handle:
                    handle.write(cert_pem + key_pem)
            chosen.load_cert_chain(cert_path, key_path)
            cache.update(stamp=stamp, context=chosen)
        sslobj.context = cache["context"]
        return None

    context.sni_callback = pick
    return context


class FakeWinRM:
    """Run the endpoint in a background thread (tests): ``with FakeWinRM(scenario) as winrm: winrm.port``.

    ``tls=True`` serves HTTPS (``scheme`` tells which)."""

    def __init__(self, scenario=None, address="127.0.0.1", port=0, state_path=None, tls=False):
        self.windows = FakeWindows(scenario, state_path)
        self.address = address
        self.port = port
        self.tls = tls
        self.scheme = "https" if tls else "http"
        self._loop = None
        self._thread = None
        self._runner = None

    @property
    def state(self):
        return self.windows.snapshot()

    def start(self):
        if not self.port:
            with socket.socket() as probe:
                probe.bind((self.address, 0))
                self.port = probe.getsockname()[1]
        ready = threading.Event()
        errors = []

        def run():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._runner = web.AppRunner(WinRMApp(self.windows).build(), access_log=None)
                self._loop.run_until_complete(self._runner.setup())
                context = tls_context(self.address)[0] if self.tls else None
                site = web.TCPSite(self._runner, self.address, self.port, reuse_address=True, ssl_context=context)
                self._loop.run_until_complete(site.start())
            except OSError as err:
                errors.append(err)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fakewinrm", daemon=True)
        self._thread.start()
        if not ready.wait(15):
            raise RuntimeError(f"fakewinrm did not start on {self.address}:{self.port} within 15 s")
        if errors:
            raise errors[0]
        return self

    def stop(self):
        if self._loop and self._thread and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(15)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def serve_forever(windows, address, port, ssl_context=None):
    """Blocking server (the CLI). SIGTERM/SIGINT end it cleanly."""
    web.run_app(WinRMApp(windows).build(), host=address, port=port, access_log=None, print=None,
                handle_signals=True, ssl_context=ssl_context)
