"""Servers on 127.0.0.1 for the tests of pip's network options: an index and a proxy.

The tests of ``tests/e2e/network/test_network_options.py`` need servers that pypiserver is
not: a package index that requires HTTP basic authentication, that speaks TLS with a
certificate of the tests' own certificate authority (and may require a client certificate),
or that answers 503 before it answers; and a forward proxy that counts what passes through
it. They are small threaded :mod:`http.server` servers that run inside the test process and
record every request, so that a test can assert what pip really asked for, and through
which way.

Nothing here connects anywhere but to loopback addresses: the servers listen on 127.0.0.1
and the proxy refuses to forward to any host outside 127.0.0.0/8.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import html
import http.client
import ipaddress
import select
import socket
import ssl
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, Self, cast
from urllib.parse import unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from support.fixtures import canonical_name

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
"""Headers that concern one connection only, which a proxy does not forward (RFC 9110)."""

VIA = "1.1 pip-accel-test-proxy"
"""The Via header that the proxy adds to each request it forwards, so the index can tell."""


@dataclass(frozen=True)
class Request:
    """One request that a server answered: what was asked, the answer, and how it came."""

    method: str
    target: str
    """The request target: a path (``/simple/x/``), or for the proxy an absolute URI."""
    status: int
    user: str | None = None
    """The user of valid basic-authentication credentials, None without (or with wrong ones)."""
    via: str | None = None
    """The request's Via header: set when the request came through the tests' proxy."""


@dataclass(frozen=True)
class TLSFailure:
    """A connection whose TLS handshake failed on the server's side, and why."""

    client: tuple[str, int]
    reason: str


class _Server(ThreadingHTTPServer):
    """A threaded HTTP server that may speak TLS; the handshake runs in each connection's thread.

    Wrapping each accepted connection (rather than the listening socket) keeps a client that
    fails or stalls its handshake from blocking the thread that accepts connections.
    """

    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: LoopbackServer, handler: type[BaseHTTPRequestHandler]) -> None:
        """Listen on ``owner.host`` at a port the system chooses (no race for a free port)."""
        self.owner = owner
        super().__init__((owner.host, 0), handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Complete the TLS handshake (when the server speaks TLS), then serve the connection."""
        context = self.owner.ssl_context
        if context is None:
            super().finish_request(request, client_address)
            return
        try:
            connection = context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:
            self.owner.tls_failures.append(TLSFailure(client_address, str(error)))
            return
        try:
            super().finish_request(connection, client_address)
        finally:
            connection.close()


class LoopbackServer:
    """A threaded HTTP(S) server on 127.0.0.1 that records every request it answers.

    Use it as a context manager, or call ``start`` and ``stop``. ``requests`` lists what it
    answered, in order (appended from the connections' threads).
    """

    handler: ClassVar[type[BaseHTTPRequestHandler]]

    def __init__(self, ssl_context: ssl.SSLContext | None = None, host: str = "127.0.0.1"):
        """Describe a server on ``host``, speaking TLS with ``ssl_context`` if given."""
        self.host = host
        self.ssl_context = ssl_context
        self.requests: list[Request] = []
        self.tls_failures: list[TLSFailure] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (or listened on, once stopped)."""
        assert self._port is not None, "the server has not been started"
        return self._port

    @property
    def origin(self) -> str:
        """``scheme://host:port`` of the server."""
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def record(self, request: Request) -> None:
        """Add ``request`` to ``requests`` (called by the handlers)."""
        with self._lock:
            self.requests.append(request)

    def start(self) -> Self:
        """Listen, and serve in a daemon thread until ``stop``."""
        if self._server is None:
            self._server = _Server(self, self.handler)
            self._port = int(self._server.server_address[1])
            self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket, so that connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


class _QuietHandler(BaseHTTPRequestHandler):
    """A request handler that speaks HTTP/1.1 (keep-alive) and logs nothing to stderr."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean; the servers record requests themselves."""

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        """Send a whole response with a Content-Length (a HEAD request gets no body)."""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@dataclass
class _Archive:
    """A file that the index serves: its project, sha256 and, for a wheel, core metadata."""

    path: Path
    project: str
    sha256: str
    metadata: bytes | None = field(default=None, repr=False)


def _project_of(filename: str) -> str | None:
    """The canonical project name of an archive file name, or None for other files."""
    if filename.endswith(".whl"):
        return canonical_name(filename.split("-", 1)[0])
    for suffix in (".tar.gz", ".zip"):
        if filename.endswith(suffix):
            return canonical_name(filename.removesuffix(suffix).rsplit("-", 1)[0])
    return None


def _wheel_metadata(path: Path) -> bytes | None:
    """The METADATA file of a wheel's top-level .dist-info directory, if it has one."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            parts = name.split("/")
            if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                return archive.read(name)
    return None


class _IndexHandler(_QuietHandler):
    """Serves a PEP 503 simple index of a directory, checking credentials and failing on purpose."""

    def do_GET(self) -> None:
        """Answer a request for an index page, an archive or a wheel's core metadata."""
        index = cast(_Server, self.server).owner
        assert isinstance(index, StaticIndex)
        user = index.authorized_user(self.headers.get("Authorization"))
        via = self.headers.get("Via")
        if index.credentials is not None and user is None:
            status = 401
            realm = {"WWW-Authenticate": 'Basic realm="pip-accel tests"'}
            self.reply(status, b"401 Unauthorized\n", realm | {"Content-Type": "text/plain"})
        else:
            status, body, content_type = index.answer(unquote(urlsplit(self.path).path))
            self.reply(status, body, {"Content-Type": content_type})
        index.record(Request(self.command, self.path, status, user, via))

    do_HEAD = do_GET


class StaticIndex(LoopbackServer):
    """A PEP 503 simple index of the archives in a directory, read on every request.

    ``/simple/`` lists the projects, ``/simple/<project>/`` links each file as
    ``/packages/<file>#sha256=<hex>`` (with PEP 658 core metadata for wheels, at
    ``/packages/<file>.metadata``, as PyPI serves it). With ``credentials`` every request
    needs them (HTTP basic authentication), otherwise it gets 401. With ``failures``,
    the first that many requests for each archive get 503 Service Unavailable.
    """

    handler = _IndexHandler

    def __init__(
        self,
        directory: Path,
        *,
        credentials: tuple[str, str] | None = None,
        failures: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        """Describe an index of ``directory``; ``start`` serves it."""
        super().__init__(ssl_context, host)
        self.directory = directory
        self.credentials = credentials
        self.failures = failures
        self._failed: dict[str, int] = {}

    @property
    def url(self) -> str:
        """The index URL, for pip's ``--index-url``."""
        return f"{self.origin}/simple/"

    def url_with(self, user: str, password: str) -> str:
        """The index URL with credentials in it: ``http://user:password@host:port/simple/``."""
        scheme, rest = self.url.split("://", 1)
        return f"{scheme}://{user}:{password}@{rest}"

    def authorized_user(self, authorization: str | None) -> str | None:
        """The user of an Authorization header when its basic credentials are the right ones."""
        if self.credentials is None or not authorization:
            return None
        kind, _, encoded = authorization.partition(" ")
        if kind.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (ValueError, UnicodeError):
            return None
        return user if (user, password) == self.credentials else None

    def archives(self) -> dict[str, _Archive]:
        """The archives in the directory now, by file name."""
        found = {}
        for path in sorted(self.directory.iterdir()):
            project = _project_of(path.name)
            if project is None or not path.is_file():
                continue
            sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
            metadata = _wheel_metadata(path) if path.name.endswith(".whl") else None
            found[path.name] = _Archive(path, project, sha256, metadata)
        return found

    def answer(self, path: str) -> tuple[int, bytes, str]:
        """Return the status, body and content type of a GET of ``path``."""
        archives = self.archives()
        if path == "/simple/":
            projects = sorted({archive.project for archive in archives.values()})
            return 200, _page([(f"/simple/{name}/", name, "") for name in projects]), "text/html"
        if path.startswith("/simple/") and path.endswith("/"):
            project = canonical_name(path.removeprefix("/simple/").strip("/"))
            links = [_link(archive) for archive in archives.values() if archive.project == project]
            return (200, _page(links), "text/html") if links else (404, b"no such project\n", "")
        if path.startswith("/packages/"):
            name = path.removeprefix("/packages/")
            if name.endswith(".metadata") and name.removesuffix(".metadata") in archives:
                metadata = archives[name.removesuffix(".metadata")].metadata
                if metadata is not None:
                    return 200, metadata, "text/plain"
            if name in archives:
                with self._lock:
                    failed = self._failed.get(name, 0)
                    self._failed[name] = failed + 1
                if failed < self.failures:
                    return 503, b"503 Service Unavailable (on purpose)\n", "text/plain"
                return 200, archives[name].path.read_bytes(), "application/octet-stream"
        return 404, b"not found\n", "text/plain"

    def downloads(self) -> list[str]:
        """The file names of the archives served (status 200), in order, repeats included."""
        names = [
            unquote(urlsplit(request.target).path).removeprefix("/packages/")
            for request in self.requests
            if request.status == 200 and request.method == "GET"
        ]
        return [name for name in names if _project_of(name) is not None]


def _link(archive: _Archive) -> tuple[str, str, str]:
    """The href, text and extra attributes of an archive's link on its project's page."""
    href = f"/packages/{archive.path.name}#sha256={archive.sha256}"
    attributes = ""
    if archive.metadata is not None:
        digest = f"sha256={hashlib.sha256(archive.metadata).hexdigest()}"
        attributes = f' data-core-metadata="{digest}" data-dist-info-metadata="{digest}"'
    return href, archive.path.name, attributes


def _page(links: list[tuple[str, str, str]]) -> bytes:
    """An HTML page of a simple index: one anchor per (href, text, attributes)."""
    anchors = [
        f'<a href="{html.escape(href)}"{attributes}>{html.escape(text)}</a><br>'
        for href, text, attributes in links
    ]
    body = "\n".join(["<!DOCTYPE html>", "<html><body>", *anchors, "</body></html>", ""])
    return body.encode("utf-8")


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return bool(host) and ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


class _ProxyHandler(_QuietHandler):
    """Forwards absolute-URI requests (and CONNECT tunnels) to loopback servers only."""

    def do_GET(self) -> None:
        """Forward a request for ``http://host:port/path`` and send the answer back."""
        proxy = cast(_Server, self.server).owner
        target = urlsplit(self.path)
        if target.scheme != "http" or not is_loopback(target.hostname):
            self.reply(403, b"the tests' proxy forwards to loopback only\n")
            proxy.record(Request(self.command, self.path, 403, via=None))
            return
        headers = {
            name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP
        }
        headers["Via"] = VIA
        path = target.path + (f"?{target.query}" if target.query else "")
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(str(target.hostname), target.port or 80, timeout=60)
        try:
            upstream.request(self.command, path or "/", body=payload, headers=headers)
            response = upstream.getresponse()
            body = response.read()
            status, reason, answer = response.status, response.reason, response.getheaders()
        except OSError as error:
            self.reply(502, f"the upstream server failed: {error}\n".encode())
            proxy.record(Request(self.command, self.path, 502, via=None))
            return
        finally:
            upstream.close()
        self.send_response(status, reason)
        skipped = HOP_BY_HOP | {"content-length", "date", "server"}
        for name, value in answer:
            if name.lower() not in skipped:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        proxy.record(Request(self.command, self.path, status, via=None))

    do_HEAD = do_GET

    def do_CONNECT(self) -> None:
        """Tunnel a connection (HTTPS through the proxy) to ``host:port`` on loopback."""
        proxy = cast(_Server, self.server).owner
        host, _, port = self.path.rpartition(":")
        if not is_loopback(host.strip("[]")) or not port.isdigit():
            self.reply(403, b"the tests' proxy tunnels to loopback only\n")
            proxy.record(Request(self.command, self.path, 403))
            return
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=60)
        except OSError:
            self.reply(502, b"the upstream server is unreachable\n")
            proxy.record(Request(self.command, self.path, 502))
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        proxy.record(Request(self.command, self.path, 200))
        with upstream:
            _relay(self.connection, upstream)
        self.close_connection = True


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways between two sockets until either side closes."""
    sockets = [client, upstream]
    while True:
        readable, _, broken = select.select(sockets, [], sockets, 60)
        if broken or not readable:
            return
        for source in readable:
            data = source.recv(65536)
            if not data:
                return
            (upstream if source is client else client).sendall(data)


class ForwardProxy(LoopbackServer):
    """An HTTP forward proxy on 127.0.0.1 that forwards to loopback servers and counts.

    A client sends a plain-HTTP request through a proxy with an absolute URI as its target
    (``GET http://127.0.0.1:8080/simple/x/ HTTP/1.1``); this proxy forwards it, adding a
    ``Via`` header (see :data:`VIA`) so that the server can tell, and records it with the
    absolute URI as the target. HTTPS goes through a CONNECT tunnel, recorded as one
    request whose target is ``host:port``.
    """

    handler = _ProxyHandler

    @property
    def url(self) -> str:
        """The proxy URL, for pip's ``--proxy``."""
        return self.origin

    def paths(self, origin: str) -> list[str]:
        """The paths of the requests forwarded successfully to ``origin``, in order."""
        return [
            urlsplit(request.target).path
            for request in self.requests
            if request.target.startswith(f"{origin}/") and request.status == 200
        ]


@dataclass(frozen=True)
class Certificates:
    """A certificate authority of the tests and the certificates it issued, as PEM files."""

    ca: Path
    """The CA's certificate: what ``--cert`` trusts."""
    server: Path
    """The server's certificate (for 127.0.0.1 and localhost) followed by its key."""
    client: Path
    """A client certificate followed by its key: what ``--client-cert`` takes."""

    def server_context(self, require_client_certificate: bool = False) -> ssl.SSLContext:
        """A server-side TLS context with the server certificate; it may require a client's."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.server)
        if require_client_certificate:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(self.ca)
        return context


def _name(common_name: str) -> x509.Name:
    """An X.509 name with one common name."""
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey | None = None) -> bytes:
    """A certificate, and its private key (unencrypted PKCS#8) if given, as PEM."""
    data = certificate.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        data += key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    return data


def make_certificates(directory: Path) -> Certificates:
    """Create a CA, a server certificate for 127.0.0.1 and a client certificate in ``directory``.

    The CA certificate is valid for a day either side of now; the others are signed by it,
    with the extensions that strict verification (OpenSSL 3, Python 3.13) wants: subject
    alternative names (an IP address SAN for 127.0.0.1), key identifiers, key and extended
    key usages. Elliptic-curve keys are made in milliseconds.
    """
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    period = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=1))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("pip-accel tests CA")
    ca_key_id = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(period[0])
        .not_valid_after(period[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(ca_key_id, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def issue(
        common_name: str, usage: x509.ObjectIdentifier, names: list[x509.GeneralName]
    ) -> Path:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(period[0])
            .not_valid_after(period[1])
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(signs_certificates=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id), False
            )
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        path = directory / f"{common_name}.pem"
        path.write_bytes(_pem(builder.sign(ca_key, hashes.SHA256()), key))
        path.chmod(0o600)
        return path

    loopback = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.DNSName("localhost"),
    ]
    server = issue("server", ExtendedKeyUsageOID.SERVER_AUTH, loopback)
    client = issue("client", ExtendedKeyUsageOID.CLIENT_AUTH, [])
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(_pem(ca))
    return Certificates(ca_path, server, client)


def _key_usage(signs_certificates: bool) -> x509.KeyUsage:
    """The key usage of a CA (signs certificates) or of an end entity (digital signatures)."""
    unused = ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement")
    return x509.KeyUsage(
        digital_signature=not signs_certificates,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        **dict.fromkeys([*unused, "encipher_only", "decipher_only"], False),
    )
