"""Running pip: ``python -m pip`` of pip-accel's own interpreter, pointed at the target.

All real work of pip (resolution, downloads, wheel builds, pass-through) runs
as a subprocess, with pip's ``--python`` naming the target; its error is read
from its output (:mod:`pip_accel.pip.output`).
"""

import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from humanfriendly import Timer
from humanfriendly.terminal.spinners import Spinner

from pip_accel.exceptions import PipFailedError
from pip_accel.interrupts import child
from pip_accel.pip.output import error_summary, redact

logger = logging.getLogger(__name__)


class Pip:
    """Runs pip as a subprocess of pip-accel's own interpreter, for one target."""

    def __init__(self, target: Path | None, general: Sequence[str] = (), stream: bool = False):
        """Prepare to run pip.

        :param target: the interpreter to act on, when it is not pip-accel's own.
        :param general: pip's general options from the user's command line.
        :param stream: show pip's output as it runs instead of capturing it.
        """
        self.target = target
        self.general = list(general)
        self.stream = stream

    def command(self, args: Sequence[str]) -> list[str]:
        """The full command that runs pip with ``args``."""
        command = [sys.executable, "-m", "pip", *self.general]
        if self.target is not None:
            command += ["--python", str(self.target)]
        return command + list(args)

    def run(
        self, args: Sequence[str], env: dict[str, str] | None = None, spinner: str | None = None
    ) -> str:
        """Run pip, returning its output, or raise :class:`PipFailedError` with pip's error.

        The output is captured even when it is streamed (shown line by line as
        pip writes it), because callers read pip's error from it. With a
        ``spinner`` label (and no streaming) a spinner with the elapsed time
        shows that pip is at work, on a terminal.
        """
        if spinner and not self.stream:
            return self._run_with_spinner(args, spinner)
        command = self.command(args)
        logger.debug("Running %s", redact(" ".join(command)))
        environment = {**os.environ, **(env or {})}
        lines = []
        with (
            subprocess.Popen(
                command,
                env=environment,
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            ) as process,
            child(process),
        ):
            assert process.stdout is not None  # stdout=PIPE
            for line in process.stdout:
                lines.append(line)
                if self.stream:
                    sys.stdout.write(line)
                    sys.stdout.flush()
        output = "".join(lines)
        if process.returncode != 0:
            summary = (
                error_summary(output) if output else f"pip exited with code {process.returncode}"
            )
            raise PipFailedError(summary, output, process.returncode)
        return output

    def _run_with_spinner(self, args: Sequence[str], label: str) -> str:
        """Run pip with its output in a file, turning a spinner until it is done."""
        command = self.command(args)
        logger.debug("Running %s", redact(" ".join(command)))
        with tempfile.TemporaryFile(mode="w+") as output:
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, text=True)
            with child(process), Spinner(label=label, timer=Timer()) as progress:
                while process.poll() is None:
                    progress.step()
                    time.sleep(0.1)
            output.seek(0)
            text = output.read()
        if process.returncode != 0:
            raise PipFailedError(error_summary(text), text, process.returncode)
        return text

    def report(self, args: Sequence[str], env: dict[str, str] | None = None) -> dict[str, Any]:
        """Run ``pip install --dry-run --report`` and return pip's installation report."""
        with tempfile.TemporaryDirectory(prefix="pip-accel-report-") as directory:
            path = Path(directory) / "report.json"
            self.run(["install", "--dry-run", "--report", str(path), *args], env)
            report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return report


def pass_through(argv: Sequence[str], target: Path | None = None) -> int:
    """Run pip with these arguments (for ``target`` if given) and return its exit code."""
    python = ["--python", str(target)] if target else []
    return subprocess.run([sys.executable, "-m", "pip", *python, *argv], check=False).returncode


@cache
def pip_version() -> str:
    """The version of the pip that pip-accel runs.

    Read from pip's ``__init__.py`` rather than by importing pip, which a warm
    run never does (:mod:`pip_accel.cli.fast_start`); imported when the file says
    it in another way.
    """
    import importlib.util

    spec = importlib.util.find_spec("pip")  # finds pip's package, imports nothing of it
    try:
        text = Path(spec.origin).read_text(encoding="utf-8") if spec and spec.origin else ""
    except OSError:
        text = ""
    found = PIP_VERSION.search(text)
    if found:
        return found.group(1)
    from pip import __version__

    return str(__version__)


PIP_VERSION = re.compile(r"""^__version__ = ["']([^"']+)["']$""", re.MULTILINE)
"""How pip's ``__init__.py`` names its version."""
