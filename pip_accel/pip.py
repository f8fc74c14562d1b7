"""Every pip command line: pip's option parser, the commands pip-accel runs, and running them.

pip states that its internals are no API, so pip-accel imports of pip only its
option parsers, to read a command line exactly as pip would (and, in
:mod:`pip_accel.pip_index`, its finder and session, with a fallback). All
real work (resolution, downloads, wheel builds, pass-through) runs ``python
-m pip`` of pip-accel's own interpreter, pointed at the target with pip's
``--python``, and every command line of it is put together here: which of the
user's options each pip command gets, and what pip-accel adds.

The command line is kept as *option groups*: the tokens of one option (say
``-r requirements.txt``) together with pip's description of that option. Each
pip command that pip-accel runs gets those groups its own parser accepts, so
an option is passed to every pip command that understands it, and to no other.
"""

import copy
import itertools
import json
import logging
import optparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from humanfriendly import Timer
from humanfriendly.terminal.spinners import Spinner

from pip_accel.exceptions import PipFailedError
from pip_accel.interrupts import child

logger = logging.getLogger(__name__)

INDEX_DESTS = frozenset({"index_url", "extra_index_urls", "no_index", "find_links"})
"""Options that say where pip looks for distributions."""

HEADLINE = "\N{MULTIPLICATION SIGN}"
"""The mark in front of the headline of an error in pip's output."""

REQUIREMENT_DESTS = frozenset({
    "requirements", "constraints", "editables", "dependency_groups", "requirements_from_scripts",
})  # fmt: skip
"""Options that name what to install, besides the positional arguments."""

BUILD_FAILED = "subprocess-exited-with-error"
"""What pip says when a build step (metadata or wheel) of a distribution fails."""

FAILED_PROJECT = re.compile(r"^ERROR: Failed to build '?(?P<name>[\w.-]+)'? when", re.MULTILINE)
"""pip 25 and newer: "ERROR: Failed to build 'psycopg2' when getting requirements to build"."""

PREPARED = re.compile(r"^(?:Collecting|Processing) (?P<what>\S+)", re.MULTILINE)
"""The line with which pip starts to prepare a distribution: a requirement or an archive."""

PROG = "pip-accel"
"""The name pip's help and usage lines give the command (pip would say ``python -m pip``)."""


@dataclass(frozen=True)
class OptionGroup:
    """The tokens of one option on the command line, or of one positional argument."""

    tokens: tuple[str, ...]
    dest: str | None = None
    """The destination of the option in pip's parser (None for a positional argument)."""


@dataclass
class CommandLine:
    """A pip command line, read by pip's own parsers."""

    command: str
    groups: list[OptionGroup]
    options: optparse.Values = field(default_factory=optparse.Values)

    def tokens(self, accepted: Iterable[str] = (), excluded: Iterable[str] = ()) -> list[str]:
        """The tokens of the options whose destination is accepted and not excluded."""
        accepted, excluded = set(accepted), set(excluded)
        chosen: list[str] = []
        for group in self.groups:
            if group.dest is not None and group.dest in accepted and group.dest not in excluded:
                chosen.extend(group.tokens)
        return chosen

    def tokens_for(self, command: str, excluded: Iterable[str] = ()) -> list[str]:
        """The option tokens that pip's ``command`` accepts, but for the general options.

        The general options (``-v``, ``--proxy``, ...) go to every pip command
        through :class:`Pip`, so they are left out here to avoid repeating them.
        """
        return self.tokens(command_dests(command) - general_dests(), excluded)

    @property
    def arguments(self) -> list[str]:
        """The positional arguments (requirement specifiers) after the command name."""
        return [group.tokens[0] for group in self.groups if group.dest is None]

    def given(self, dest: str) -> bool:
        """Whether an option with this destination appears on the command line."""
        return any(group.dest == dest for group in self.groups)


def _command_parser(command: str) -> optparse.OptionParser:
    """pip's option parser of one command, its usage lines naming pip-accel.

    Raises :class:`KeyError` for a command that pip does not have.
    """
    from pip._internal.commands import create_command

    parser: optparse.OptionParser = create_command(command).parser
    parser.prog = f"{PROG} {command}"
    return parser


def command_parser(command: str) -> optparse.OptionParser | None:
    """pip's option parser of ``command`` (for its help), or None when pip has no such command."""
    try:
        return _command_parser(command)
    except KeyError:
        return None


def main_parser() -> optparse.OptionParser:
    """pip's parser of its general options, naming pip-accel, which prints no help itself.

    ``-h``/``--help`` sets ``help`` instead of printing pip's general help,
    so that pip-accel prints its own (see :mod:`pip_accel.help`).
    """
    from pip._internal.cli.main_parser import create_main_parser

    parser: optparse.OptionParser = create_main_parser()
    parser.prog = PROG
    option = parser.get_option("--help")
    if option is not None:
        option.action = "store_true"
    return parser


@cache
def command_dests(command: str) -> frozenset[str]:
    """The destinations of every option that pip's ``command`` accepts."""
    parser = _command_parser(command)
    return frozenset(option.dest for option in parser._get_all_options() if option.dest)


@cache
def general_dests() -> frozenset[str]:
    """The destinations of pip's general options (those every command accepts)."""
    from pip._internal.cli.main_parser import create_main_parser

    parser = create_main_parser()
    return frozenset(option.dest for option in parser._get_all_options() if option.dest)


def split_command(argv: Sequence[str]) -> tuple[optparse.Values, list[str]]:
    """Read pip's general options; return them and the rest (command first).

    Raises :class:`SystemExit` with status 2 and pip's message on a bad option.
    ``general.help`` tells whether ``-h``/``--help`` came before the command.
    """
    general, rest = main_parser().parse_args(list(argv))
    return general, rest


def parse_install(argv: Sequence[str]) -> CommandLine:
    """Read an ``install`` command line (without the word install) with pip's parser.

    pip's parser validates everything (exiting with status 2 and pip's message
    on an error); the option groups are then found with the same parser. The
    defaults are copied first: pip's ``--group`` appends to a default list
    that every parser of the process shares.
    """
    parser = _command_parser("install")
    options, _ = parser.parse_args(list(argv), copy.deepcopy(parser.get_default_values()))
    groups = list(_split_groups(parser, list(argv)))
    return CommandLine("install", groups, options)


def _split_groups(parser: optparse.OptionParser, argv: list[str]) -> Iterator[OptionGroup]:
    """Split a command line into option groups, expanding ``-abc`` clusters."""
    position = 0
    while position < len(argv):
        token = argv[position]
        if token == "--":
            yield from (OptionGroup((rest,)) for rest in argv[position + 1 :])
            return
        if token.startswith("--"):
            group, position = _long_option(parser, argv, position)
            yield group
        elif token.startswith("-") and token != "-":
            groups, position = _short_options(parser, argv, position)
            yield from groups
        else:
            yield OptionGroup((token,))
            position += 1


def _long_option(
    parser: optparse.OptionParser, argv: list[str], position: int
) -> tuple[OptionGroup, int]:
    """Read one ``--name[=value]`` option (abbreviations allowed, as in optparse)."""
    name, has_value, value = argv[position].partition("=")
    option = parser._long_opt[parser._match_long_opt(name)]
    if option.takes_value():
        if has_value:
            return OptionGroup((option.get_opt_string(), value), option.dest), position + 1
        return OptionGroup((option.get_opt_string(), argv[position + 1]), option.dest), position + 2
    return OptionGroup((option.get_opt_string(),), option.dest), position + 1


def _short_options(
    parser: optparse.OptionParser, argv: list[str], position: int
) -> tuple[list[OptionGroup], int]:
    """Read a cluster of short options such as ``-Uqr file``."""
    letters = argv[position][1:]
    groups = []
    for index, letter in enumerate(letters):
        option = parser._short_opt["-" + letter]
        if option.takes_value():
            rest = letters[index + 1 :]
            if rest:
                groups.append(OptionGroup(("-" + letter, rest), option.dest))
                return groups, position + 1
            groups.append(OptionGroup(("-" + letter, argv[position + 1]), option.dest))
            return groups, position + 2
        groups.append(OptionGroup(("-" + letter,), option.dest))
    return groups, position + 1


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


# The pip commands that pip-accel runs, and which of the user's options each one gets.

HANDED_OVER: dict[str, str] = {}
"""Install options with which pip-accel hands the whole command to pip, and why.

``--dry-run`` and ``--report`` are not among them: they describe pip-accel's
own plan (:mod:`pip_accel.dry_run`)."""

INDEX_ONLY = {
    "uploaded_prior_to": "--uploaded-prior-to asks for the upload times of the package index,"
    " which the local index does not record (and pip checks no upload time of a local file)",
}
"""Install options whose value (from the command line, ``PIP_*`` or pip's configuration)
only the package index can answer: pip-accel hands the whole command to pip, and why."""

NOT_FOR_PLANNING = INDEX_DESTS | {"python", "dry_run", "json_report_file", "progress_bar", "log"}
"""Options that pip-accel sets itself when it asks pip for a plan."""

NOT_FOR_BUILDING = INDEX_DESTS | REQUIREMENT_DESTS | {
    "python", "wheel_dir", "format_control", "pre", "require_hashes", "no_require_hashes",
    "ignore_dependencies", "only_dependencies", "prefer_binary", "log",
}  # fmt: skip
"""Options of the user that do not apply to building one sdist."""

NOT_FOR_PINS = REQUIREMENT_DESTS | {
    "python", "download_dir", "ignore_dependencies", "only_dependencies",
}  # fmt: skip
"""Options of the user that do not apply to downloading exact pins without dependencies
(``--only-deps`` would conflict with the ``--no-deps`` of those downloads)."""

NOT_FOR_HANDING_OVER = REQUIREMENT_DESTS | {
    "python", "dry_run", "json_report_file", "ignore_dependencies", "only_dependencies",
}  # fmt: skip
"""Options of the user that pip-accel does not repeat when it hands work to pip: what it
hands over is planned already, each distribution by itself (``--no-deps``)."""

UNRELATED_TO_PLANS = frozenset({
    "python", "verbose", "quiet", "log", "no_color", "progress_bar", "cache_dir", "timeout",
    "retries", "cert", "client_cert", "proxy", "no_input", "disable_pip_version_check",
    "exists_action", "root_user_action", "keyring_provider", "require_venv",
    "no_python_version_warning", "src_dir", "dry_run", "json_report_file",
})  # fmt: skip
"""Options that change how a run reports or reaches the network, not what pip plans.

Left out of a stored plan's key, so that workers whose caches or certificates
live in other places still ask the same question, and a dry run or a report
describes the plan that the install uses."""


def only_from(place: str | Path) -> list[str]:
    """The options that make pip look for distributions in ``place`` alone (no index)."""
    return ["--no-index", "--find-links", str(place)]


def plan_arguments(command_line: CommandLine, place: str | Path) -> list[str]:
    """What ``pip install --dry-run --report`` gets: the user's plan, from ``place`` alone."""
    options = command_line.tokens_for("install", NOT_FOR_PLANNING)
    return [*only_from(place), *options, *command_line.arguments]


def wheel_command(sdist: Path, wheel_dir: Path, sources: Path, options: Sequence[str]) -> list[str]:
    """``pip wheel`` of one sdist, offline, its build back-ends taken from ``sources``."""
    return ["wheel", "--no-deps", *only_from(sources), "--wheel-dir", str(wheel_dir),
            *options, str(sdist)]  # fmt: skip


def build_options(command_line: CommandLine) -> list[str]:
    """The user's options that apply to building one sdist with ``pip wheel``."""
    return command_line.tokens_for("wheel", NOT_FOR_BUILDING)


def download_command(dest: Path, local_index: Path, args: Sequence[str]) -> list[str]:
    """``pip download`` into ``dest``, taking what ``local_index`` has already."""
    return ["download", "--dest", str(dest), "--progress-bar", "off",
            "--find-links", str(local_index), *args]  # fmt: skip


def download_arguments(command_line: CommandLine) -> list[str]:
    """What ``pip download`` gets to fetch everything the user's requirements need.

    pip download takes no ``-e``, but downloads what an editable needs when it
    is given as an argument. Nor ``--only-deps``: the plan needs the archives
    of the requirements themselves too, for their metadata.
    """
    options = command_line.tokens_for("download", {"python", "download_dir", "only_dependencies"})
    editables = list(command_line.options.editables or [])
    return [*options, *command_line.arguments, *editables]


def pin_options(command_line: CommandLine) -> list[str]:
    """The user's options that apply to downloading exact pins without their dependencies."""
    return command_line.tokens_for("download", NOT_FOR_PINS)


def without_dependencies(requirements: Iterable[str]) -> list[str]:
    """Arguments that name requirements (never read as options) and no dependencies."""
    return ["--no-deps", "--", *requirements]


def install_command(command_line: CommandLine, args: Sequence[str]) -> list[str]:
    """``pip install --no-deps`` with the user's install options and ``args``."""
    return ["install", "--no-deps", *command_line.tokens_for("install", NOT_FOR_HANDING_OVER),
            *args]  # fmt: skip


def whole_install(command_line: CommandLine) -> list[str]:
    """The user's whole install command for pip, but ``--python`` (given to pip before it)."""
    tokens = [token for group in command_line.groups if group.dest != "python"
              for token in group.tokens]  # fmt: skip
    return ["install", *tokens]


def pass_through(argv: Sequence[str], target: Path | None = None) -> int:
    """Run pip with these arguments (for ``target`` if given) and return its exit code."""
    python = ["--python", str(target)] if target else []
    return subprocess.run([sys.executable, "-m", "pip", *python, *argv], check=False).returncode


@cache
def pip_version() -> str:
    """The version of the pip that pip-accel runs.

    Read from pip's ``__init__.py`` rather than by importing pip, which a warm
    run never does (:mod:`pip_accel.fast_start`); imported when the file says
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


def config_files() -> list[str]:
    """Every configuration file pip may read for a command line (whether it exists or not)."""
    from pip._internal.configuration import get_configuration_files

    files = [name for names in get_configuration_files().values() for name in names]
    named = os.environ.get("PIP_CONFIG_FILE")
    return [*files, named] if named else files


UNEXPECTED = "Exception:"
"""pip's error message in front of the traceback of an exception it did not expect."""

TRACEBACK = "Traceback (most recent call last):"
"""The first line of a Python traceback."""

CHAINED = ("The above exception was the direct cause", "During handling of the above exception")
"""How Python joins the tracebacks of chained exceptions."""

FETCH_TROUBLE = re.compile(
    r"^(?:WARNING:\s*)?(Could not fetch URL .*?)(?: - skipping)?$|^WARNING:\s*(\d{3} Error, .*)$"
)
"""pip's words when it could not read an index page: they say why it then finds nothing."""

NOT_FOUND = ("Could not find a version", "No matching distribution found")
"""pip's errors when no index offered a distribution (or none could be read)."""

UNFOUND = re.compile(r"^ERROR: No matching distribution found for (?P<requirement>.+?)\s*$", re.M)
"""pip's error line that names a requirement no index had a distribution for."""

PASSWORD = re.compile(r"(://[^/:@\s]+):[^/@\s]+@")
"""The password of a URL's credentials."""


def redact(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``****``, as pip shows URLs."""
    return PASSWORD.sub(r"\1:****@", text)


def error_summary(output: str) -> str:
    """pip's own error text: its ``ERROR:`` lines, else its last headline.

    pip 23.0 reports a failed build step only with a headline (marked with a
    multiplication sign) such as "Getting requirements to build wheel did not
    run successfully.", so the requirement pip was collecting then is added.
    pip reports an exception it did not expect (a full disk, say) as
    ``ERROR: Exception:`` and a traceback; the traceback's last line, which
    says what went wrong, stands for that report.
    """
    raw = output.splitlines()
    errors = [_error_text(message, raw[index + 1 :]) for index, message in _error_lines(raw)]
    if errors:
        return " ".join(errors) + _fetch_trouble(raw, errors)
    lines = [line.strip() for line in raw if line.strip()]
    headlines = [line.lstrip(HEADLINE + " ") for line in lines if line.startswith(HEADLINE)]
    collecting = [line.split(None, 1)[1] for line in lines if line.startswith("Collecting ")]
    if headlines:
        context = f" (while collecting {collecting[-1]})" if collecting else ""
        return headlines[-1] + context
    return lines[-1] if lines else "pip failed without saying why"


def unfound_requirements(output: str) -> list[str]:
    """The requirements that pip found no distribution for, as pip wrote them, in its order.

    pip's resolver stops at the first such requirement, so there is one at
    most with today's pips; none when pip failed otherwise (a conflict, say).
    """
    return list(dict.fromkeys(match["requirement"] for match in UNFOUND.finditer(output)))


def _fetch_trouble(lines: list[str], errors: list[str]) -> str:
    """Why pip found no distribution, when it could not read an index (refused, TLS), or ""."""
    if not any(error.startswith(NOT_FOUND) for error in errors):
        return ""
    found = [FETCH_TROUBLE.match(line.strip()) for line in lines]
    reasons = [match[1] or match[2] for match in found if match]
    return f" (pip said: {redact(reasons[-1])})" if reasons else ""


def _error_lines(lines: list[str]) -> Iterator[tuple[int, str]]:
    """The position and message (without ``ERROR:``) of each of pip's error lines."""
    for position, line in enumerate(lines):
        text = line.strip()
        if text.startswith("ERROR:"):
            yield position, re.sub(r"^ERROR:\s*", "", text)


def _error_text(message: str, following: list[str]) -> str:
    """One of pip's error messages; for an unexpected exception, the exception itself.

    The indented lines right below the message are its details, kept as pip
    wrote them: for a hash mismatch, each archive with the hash expected and
    the hash it had.
    """
    if message == UNEXPECTED:
        return _final_exception(following) or message
    details = itertools.takewhile(lambda line: line[:1].isspace() and line.strip(), following)
    return "\n".join([message, *(line.rstrip() for line in details)])


def _final_exception(lines: list[str]) -> str | None:
    """The exception line of the traceback at the start of ``lines``, or None without one.

    A traceback's frames are indented and its exception line is not. With
    chained exceptions ("During handling of the above exception ...") the
    last traceback tells the exception that ended pip.
    """
    text = [line for line in lines if line.strip()]
    if text and text[0].strip() != TRACEBACK:  # a chained exception without its traceback
        return _last_exception_line(text)
    final = None
    position = 0
    while position < len(text) and text[position].strip() == TRACEBACK:
        position += 1
        while position < len(text) and text[position][:1].isspace():
            position += 1
        if position == len(text):
            break
        final = text[position].strip()
        position += 1
        if position < len(text) and text[position].startswith(CHAINED):
            position += 1
    return final


def _last_exception_line(lines: list[str]) -> str | None:
    """The last line that is neither indented nor a traceback's header or joint, or None."""
    candidates = [
        line.strip()
        for line in lines
        if not line[:1].isspace() and line.strip() != TRACEBACK and not line.startswith(CHAINED)
    ]
    return candidates[-1] if candidates else None


def failed_project(output: str) -> str | None:
    """The project whose build step failed, according to pip's output, or None if unknown.

    pip 25 and newer name it in their last error; older pips are read from the
    last "Collecting" (a requirement) or "Processing" (an archive) line before
    the first failed step.
    """
    named = FAILED_PROJECT.search(output)
    if named:
        return named.group("name")
    position = output.find(BUILD_FAILED)
    preparing = list(PREPARED.finditer(output, 0, position if position >= 0 else len(output)))
    if not preparing:
        return None
    what = preparing[-1].group("what")
    if "/" in what or what.endswith((".tar.gz", ".zip")):
        return re.sub(r"\.(tar\.gz|zip|tar\.bz2)$", "", what.rsplit("/", 1)[-1]).rsplit("-", 1)[0]
    return re.split(r"[^\w.-]", what, maxsplit=1)[0]
