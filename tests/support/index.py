"""The tests' package index: a pypiserver on 127.0.0.1 serving the files of one directory."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from support.commands import stop_process


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def link_or_copy(source: Path, directory: Path) -> Path:
    """Hard-link ``source`` into ``directory`` (copy it across file systems); return the link."""
    target = directory / source.name
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return target


#: An opener that ignores proxy settings: the tests' servers are on loopback.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def answers(url: str) -> bool:
    """Return whether an HTTP server answers ``url`` with a success status."""
    try:
        with DIRECT.open(url, timeout=2) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError):
        return False


class PackageIndex:
    """A pypiserver on 127.0.0.1 that serves the files of one directory as a simple index.

    Authentication is off (``-a . -P .``), and so is the fallback: pypiserver would otherwise
    redirect requests for unknown projects to pypi.org. The ``simple-dir`` back-end reads the
    directory on every request, so files added while it runs are served at once.
    """

    def __init__(self, directory: Path, log_file: Path, port: int | None = None) -> None:
        """Describe an index of ``directory`` logging to ``log_file``; ``start`` runs it."""
        self.directory = directory
        self.log_file = log_file
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        """The index URL, for pip's ``--index-url``."""
        return f"http://127.0.0.1:{self.port}/simple/"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self.process is not None and self.process.poll() is None

    def command(self) -> list[str]:
        """Return the command that runs pypiserver with the interpreter of the tests."""
        return [
            *(sys.executable, "-m", "pypiserver", "run"),
            *("--host", "127.0.0.1", "--port", str(self.port)),
            *("--disable-fallback", "-a", ".", "-P", "."),
            *("--backend", "simple-dir", "--server", "wsgiref", "--hash-algo", "sha256"),
            str(self.directory),
        ]

    def start(self, timeout: float = 10) -> PackageIndex:
        """Start the server (on the same port as before, if it ran) and wait until it answers."""
        if self.running:
            return self
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        """Poll the index page until it answers; fail with the server's log if it does not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if answers(self.url):
                return
            if not self.running:
                break
            time.sleep(0.05)
        self.stop()
        log = self.log_file.read_text(encoding="utf-8", errors="replace")
        raise RuntimeError(f"pypiserver did not answer {self.url} in {timeout} s:\n{log}")

    def stop(self) -> None:
        """Terminate the server and wait for it, so that connections are refused afterwards."""
        stop_process(self.process)
        self.process = None

    def add(self, *paths: Path) -> list[Path]:
        """Serve ``paths`` (archives) too; return where they are in the served directory."""
        return [link_or_copy(path, self.directory) for path in paths]


class IndexFactory(Protocol):
    """The type of ``make_package_index``."""

    def __call__(self, files: Iterable[Path] | None = None) -> PackageIndex:
        """Start an index of ``files``; None serves every fixture archive and back-end."""
