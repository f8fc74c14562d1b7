"""pip's network options through the real ``pip-accel`` command, against real servers on loopback.

pip-accel downloads with pip, so whatever pip honours must reach every download it makes:
credentials in the index URL and from netrc, proxies (the option and the environment),
certificate authorities and client certificates (the options and the environment), and
pip's retries. Each test serves a small package set from a server of ``support.servers``
on 127.0.0.1 that requires one of these, installs from it with ``pip-accel install`` into a
new virtual environment with every cache empty, and checks the environment, the local index
and what the servers saw: which archives were downloaded, and which way they came. Where a
test then stops its servers and installs into another environment, there is nothing left to
reach: that works only from what the first run kept. Where the network refuses, pip-accel
must fail with a last line that says why, without a traceback.

The package set: the wheel netpkg-a needs the wheel netpkg-b (which needs the wheel
netpkg-c) and the sdist chain-c, built by flit_core, whose wheel pip-accel keeps in its local
index so that it can build chain-c without the network. Installing netpkg-a (``FULL``) takes
the downloads of the plan and of the build back-end through the server's conditions, and a
build; installing netpkg-b (``WHEELS``) takes two wheels, in half the time, for the variants.

Everything here is pip's behaviour (pip 23.0 has all of it), which pip-accel must keep
whatever pip it runs: ``once``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.commands import describe
from support.fixtures import make_wheel, pkg_info
from support.index import link_or_copy
from support.servers import (
    VIA,
    Certificates,
    ForwardProxy,
    LoopbackServer,
    StaticIndex,
    make_certificates,
)
from support.venvs import VenvFactory, accel, installed_packages

pytestmark = pytest.mark.once

USER, PASSWORD = "alice", "open-sesame"
"""The credentials that the authenticating index accepts."""


@dataclass(frozen=True)
class Want:
    """What a test installs, and what the environment has then."""

    requirement: str
    installed: dict[str, str]
    builds: bool
    """Whether it needs the sdist chain-c, and so flit_core's wheel too."""

    def archives(self, directory: Path) -> set[str]:
        """The names of the archives of the package set in ``directory`` that it needs."""
        names = file_names(directory)
        if self.builds:
            return names
        prefixes = tuple(f"{name.replace('-', '_')}-" for name in self.installed)
        return {name for name in names if name.startswith(prefixes)}

    @property
    def pages(self) -> set[str]:
        """The index pages of the projects it installs."""
        return {f"/simple/{name}/" for name in self.installed}


FULL = Want("netpkg-a", {f"netpkg-{x}": "1.0" for x in "abc"} | {"chain-c": "1.0"}, True)
"""Three wheels and an sdist to build."""

WHEELS = Want("netpkg-b", {"netpkg-b": "1.0", "netpkg-c": "1.0"}, False)
"""Two wheels, one needing the other."""

LEAKING_VARIABLES = (
    *("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"),
    *("http_proxy", "https_proxy", "all_proxy", "no_proxy"),
    *("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NETRC"),
)
"""What the machine's environment must not hand to pip here: its proxies and their
exceptions (``isolated_env`` exempts 127.0.0.1, which would hide the tests' proxy from pip
when it comes from the environment), its CA bundles (requests lets REQUESTS_CA_BUNDLE win
over ``--cert``) and its netrc."""

Servers = list[LoopbackServer]
"""The servers a test started (see the ``servers`` fixture)."""


@pytest.fixture
def env(isolated_env: dict[str, str]) -> dict[str, str]:
    """``isolated_env`` without any proxy, proxy exception, CA bundle or netrc setting."""
    return {key: value for key, value in isolated_env.items() if key not in LEAKING_VARIABLES}


@pytest.fixture
def failing_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` in which pip-accel does not run pip again after a network failure."""
    return env | {"PIP_ACCEL_MAX_RETRIES": "0"}


@pytest.fixture
def archives(tmp_path: Path, fixture_sdists: dict[str, Path], backend_wheels: list[Path]) -> Path:
    """A directory with the package set: netpkg-a, -b and -c, chain-c and flit_core."""
    directory = tmp_path / "archives"
    for name, dependencies in [("a", ["netpkg-b", "chain-c"]), ("b", ["netpkg-c"]), ("c", [])]:
        files = {
            f"netpkg_{name}/__init__.py": f'"""netpkg-{name}."""\n',
            f"netpkg_{name}-1.0.dist-info/METADATA": pkg_info(
                f"netpkg-{name}", "1.0", dependencies
            ),
        }
        make_wheel(directory, f"netpkg-{name}", "1.0", files)
    link_or_copy(fixture_sdists["chain-c-1.0"], directory)
    for wheel in backend_wheels:
        if wheel.name.startswith("flit_core-"):
            link_or_copy(wheel, directory)
    return directory


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A CA of the tests, a server certificate for 127.0.0.1 and a client certificate."""
    return make_certificates(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def servers() -> Iterator[Servers]:
    """A list into which a test puts the servers it starts; each is stopped at teardown."""
    started: Servers = []
    yield started
    for server in started:
        server.stop()


#: Starts an HTTPS index of the package set (see ``start_tls_index``).
TLSIndexFactory = Callable[..., StaticIndex]


@pytest.fixture
def start_tls_index(
    archives: Path, servers: Servers, certificates: Certificates
) -> TLSIndexFactory:
    """Start an HTTPS index of the package set with a certificate of the tests' CA, stopped
    at teardown; ``require_client_certificate=True`` asks pip for a client certificate."""

    def start(require_client_certificate: bool = False) -> StaticIndex:
        context = certificates.server_context(require_client_certificate=require_client_certificate)
        index = StaticIndex(archives, ssl_context=context).start()
        servers.append(index)
        return index

    return start


def file_names(directory: Path) -> set[str]:
    """The names of the files in ``directory`` (none if it does not exist)."""
    if not directory.is_dir():
        return set()
    return {path.name for path in directory.iterdir() if path.is_file()}


def assert_installed(
    env: dict[str, str],
    make_venv: VenvFactory,
    archives: Path,
    want: Want,
    args: list[str],
    stop: Sequence[LoopbackServer] = (),
) -> subprocess.CompletedProcess[str]:
    """Install ``want`` with ``args`` into a new venv; return pip-accel's run.

    Every archive it needs must be in the local index then (``<data>/sources``). With
    servers to ``stop``, those are stopped and pip-accel installs into another venv, with
    the same arguments and nothing to reach.
    """
    first = make_venv("first")
    result = accel(env, first, *args, want.requirement)
    assert installed_packages(first, env) == want.installed, describe(result)
    kept = file_names(Path(env["PIP_ACCEL_CACHE"]) / "sources")
    assert want.archives(archives) <= kept, describe(result)
    if stop:
        for server in stop:
            server.stop()
        second = make_venv("second")
        offline = accel(env, second, *args, want.requirement)
        assert installed_packages(second, env) == want.installed, describe(offline)
    return result


def assert_clear_failure(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """A failed run: non-zero status, no traceback, and each of ``words`` in its last line."""
    assert result.returncode != 0, describe(result)
    assert "Traceback" not in result.stdout + result.stderr, describe(result)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, describe(result)
    for word in words:
        message = f"{word!r} not in the last line:\n{describe(result)}"
        assert word.lower() in lines[-1].lower(), message


# Basic authentication.


def test_credentials_in_the_index_url(
    env: dict[str, str], archives: Path, make_venv: VenvFactory, servers: Servers
) -> None:
    """``-i http://user:password@host/simple/``: pages and archives fetched with credentials.

    The index answers 401 to any request without them, the archives' included, as private
    indexes do; and the password appears nowhere in pip-accel's output.
    """
    index = StaticIndex(archives, credentials=(USER, PASSWORD)).start()
    servers.append(index)
    args = ["-i", index.url_with(USER, PASSWORD)]
    result = assert_installed(env, make_venv, archives, FULL, args, stop=[index])
    assert set(index.downloads()) == FULL.archives(archives)
    assert all(request.user == USER for request in index.requests if request.status == 200)
    assert PASSWORD not in result.stdout + result.stderr, describe(result)


def test_verbose_output_hides_the_password(
    env: dict[str, str], archives: Path, make_venv: VenvFactory, servers: Servers
) -> None:
    """With ``-v`` too, the password in the index URL is not shown (pip shows ``****``)."""
    index = StaticIndex(archives, credentials=(USER, PASSWORD)).start()
    servers.append(index)
    result = assert_installed(
        env, make_venv, archives, WHEELS, ["-v", "-i", index.url_with(USER, PASSWORD)]
    )
    shown = [line for line in (result.stdout + result.stderr).splitlines() if PASSWORD in line]
    assert not shown, "\n".join(shown)


@pytest.mark.parametrize("where", ["NETRC", "~/.netrc"])
def test_credentials_from_netrc(
    env: dict[str, str],
    archives: Path,
    make_venv: VenvFactory,
    servers: Servers,
    tmp_path: Path,
    where: str,
) -> None:
    """An index URL without credentials: pip finds them in the file $NETRC names, or ~/.netrc."""
    index = StaticIndex(archives, credentials=(USER, PASSWORD)).start()
    servers.append(index)
    netrc = tmp_path / "netrc" if where == "NETRC" else Path(env["HOME"]) / ".netrc"
    netrc.write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
    netrc.chmod(0o600)
    want = FULL if where == "NETRC" else WHEELS
    if where == "NETRC":
        env = env | {"NETRC": str(netrc)}
    stop = [index] if want is FULL else []
    assert_installed(env, make_venv, archives, want, ["-i", index.url], stop=stop)
    assert set(index.downloads()) == want.archives(archives)
    assert all(request.user == USER for request in index.requests if request.status == 200)


def test_wrong_password_fails_clearly(
    failing_env: dict[str, str], archives: Path, make_venv: VenvFactory, servers: Servers
) -> None:
    """Wrong credentials: pip-accel fails, its last line names the 401, with no traceback.

    pip warns "401 Error, Credentials not correct for <URL>" before it reports that no
    version of the project was found; that reason must reach the user. Nothing is installed,
    and the wrong password is not shown either.
    """
    index = StaticIndex(archives, credentials=(USER, PASSWORD)).start()
    servers.append(index)
    venv = make_venv()
    args = ["--retries", "0", "-i", index.url_with(USER, "wrong-password"), WHEELS.requirement]
    result = accel(failing_env, venv, *args, ok=False)
    assert_clear_failure(result, WHEELS.requirement, "401")
    assert "wrong-password" not in result.stdout + result.stderr, describe(result)
    assert installed_packages(venv, failing_env) == {}
    assert index.requests and all(request.status == 401 for request in index.requests)


# Proxies.


@pytest.mark.parametrize("how", ["--proxy", "http_proxy"])
def test_proxy(
    env: dict[str, str], archives: Path, make_venv: VenvFactory, servers: Servers, how: str
) -> None:
    """Through a forward proxy, given by ``--proxy`` or by the ``http_proxy`` variable.

    The proxy forwarded the project pages and every archive, and the index got no request
    that did not come through the proxy. (With no NO_PROXY, neither pip nor requests
    bypasses a proxy for 127.0.0.1; with ``--proxy``, pip ignores NO_PROXY anyway.)
    """
    index = StaticIndex(archives).start()
    proxy = ForwardProxy().start()
    servers += [index, proxy]
    want, args, stop = FULL, ["-i", index.url, "--proxy", proxy.url], [index, proxy]
    if how == "http_proxy":
        want, args, stop, env = WHEELS, ["-i", index.url], [], env | {how: proxy.url}
    assert_installed(env, make_venv, archives, want, args, stop=stop)
    forwarded = set(proxy.paths(index.origin))
    assert forwarded >= want.pages, forwarded
    assert forwarded >= {f"/packages/{name}" for name in want.archives(archives)}, forwarded
    bypassed = [request for request in index.requests if request.via != VIA]
    assert index.requests and not bypassed, bypassed


def test_tls_index_through_a_proxy(
    env: dict[str, str],
    archives: Path,
    make_venv: VenvFactory,
    servers: Servers,
    certificates: Certificates,
    start_tls_index: TLSIndexFactory,
) -> None:
    """An HTTPS index through ``--proxy``: pip tunnels (CONNECT) and trusts ``--cert``."""
    index = start_tls_index()
    proxy = ForwardProxy().start()
    servers.append(proxy)
    args = ["-i", index.url, "--proxy", proxy.url, "--cert", str(certificates.ca)]
    assert_installed(env, make_venv, archives, WHEELS, args)
    assert set(index.downloads()) == WHEELS.archives(archives)
    tunnels = [request.target for request in proxy.requests if request.method == "CONNECT"]
    assert tunnels and set(tunnels) == {f"127.0.0.1:{index.port}"}, proxy.requests
    assert len(proxy.requests) == len(tunnels), proxy.requests


# TLS with the tests' own certificate authority.


@pytest.mark.parametrize("how", ["--cert", "PIP_CERT", "REQUESTS_CA_BUNDLE"])
def test_tls_index_with_its_own_ca(
    env: dict[str, str],
    archives: Path,
    make_venv: VenvFactory,
    certificates: Certificates,
    start_tls_index: TLSIndexFactory,
    how: str,
) -> None:
    """An HTTPS index whose certificate the tests' CA signed, trusted by ``--cert`` or a variable.

    PIP_CERT is pip's configuration; REQUESTS_CA_BUNDLE is read by requests, inside pip.
    """
    index = start_tls_index()
    want, args, stop = FULL, ["-i", index.url, "--cert", str(certificates.ca)], [index]
    if how != "--cert":
        want, args, stop, env = WHEELS, ["-i", index.url], [], env | {how: str(certificates.ca)}
    assert_installed(env, make_venv, archives, want, args, stop=stop)
    assert set(index.downloads()) == want.archives(archives)
    assert not index.tls_failures


def test_tls_index_without_its_ca_fails_clearly(
    failing_env: dict[str, str], make_venv: VenvFactory, start_tls_index: TLSIndexFactory
) -> None:
    """Without the CA pip cannot verify the index: the last line says so, nothing downloaded.

    pip says "There was a problem confirming the ssl certificate: [SSL:
    CERTIFICATE_VERIFY_FAILED] certificate verify failed ..." before it reports that no
    version of the project was found.
    """
    index = start_tls_index()
    venv = make_venv()
    args = ["--retries", "0", "-i", index.url, WHEELS.requirement]
    result = accel(failing_env, venv, *args, ok=False)
    assert_clear_failure(result, WHEELS.requirement, "certificate verify failed")
    assert installed_packages(venv, failing_env) == {}
    assert index.tls_failures and not index.requests


def test_tls_client_certificate(
    env: dict[str, str],
    archives: Path,
    make_venv: VenvFactory,
    certificates: Certificates,
    start_tls_index: TLSIndexFactory,
) -> None:
    """An index that requires a client certificate: ``--client-cert`` gives pip one."""
    index = start_tls_index(require_client_certificate=True)
    args = ["-i", index.url, "--cert", str(certificates.ca)]
    args += ["--client-cert", str(certificates.client)]
    assert_installed(env, make_venv, archives, FULL, args, stop=[index])
    assert set(index.downloads()) == FULL.archives(archives)
    assert not index.tls_failures


def test_tls_without_a_client_certificate_fails_clearly(
    failing_env: dict[str, str],
    make_venv: VenvFactory,
    certificates: Certificates,
    start_tls_index: TLSIndexFactory,
) -> None:
    """An index that requires a client certificate, and none given: a clear failure.

    pip says "There was a problem confirming the ssl certificate: ... certificate
    required" (TLS 1.3) before it reports that no version of the project was found.
    """
    index = start_tls_index(require_client_certificate=True)
    venv = make_venv()
    args = ["--retries", "0", "-i", index.url, "--cert", str(certificates.ca)]
    result = accel(failing_env, venv, *args, WHEELS.requirement, ok=False)
    assert_clear_failure(result, WHEELS.requirement, "certificate")
    assert installed_packages(venv, failing_env) == {}
    assert index.tls_failures and not index.requests


# Retries.


def test_archives_that_fail_at_first_with_no_retries(
    failing_env: dict[str, str], archives: Path, make_venv: VenvFactory, servers: Servers
) -> None:
    """Archives that answer 503 at first, and ``--retries 0``: a clear failure naming the 503.

    pip itself ends with a traceback here (requests' RetryError: "Max retries exceeded with
    url: /packages/... (Caused by ResponseError('too many 503 error responses'))"), which
    pip-accel must turn into one line with the reason.
    """
    index = StaticIndex(archives, failures=2).start()
    servers.append(index)
    venv = make_venv()
    args = ["--retries", "0", "-i", index.url, WHEELS.requirement]
    result = accel(failing_env, venv, *args, ok=False)
    assert_clear_failure(result, "503")
    assert installed_packages(venv, failing_env) == {}


def test_archives_that_fail_at_first_are_tried_again(
    failing_env: dict[str, str], archives: Path, make_venv: VenvFactory, servers: Servers
) -> None:
    """Archives that answer 503 twice: pip's retries (5 by default) get each on the third try.

    pip-accel's own retries are off, so that only pip's can have done it.
    """
    index = StaticIndex(archives, failures=2).start()
    servers.append(index)
    assert_installed(failing_env, make_venv, archives, WHEELS, ["-i", index.url])
    failed = [request.target for request in index.requests if request.status == 503]
    archive_paths = [f"/packages/{name}" for name in WHEELS.archives(archives)]
    assert sorted(failed) == sorted(2 * archive_paths), failed
    assert set(index.downloads()) == WHEELS.archives(archives)
