"""The plan cache: what an earlier run planned, reused when nothing it depends on changed.

Resolution is most of a warm run, and it gives the same answer for the same
question. The question is everything pip's plan depends on, and it makes the
key of the cache:

- the command line as pip's parser read it, pip's configuration files and
  ``PIP_*`` variables included (they are the defaults of the parsed options),
  and the working directory (relative paths on the command line);
- the contents of every requirements and constraints file it names, followed
  recursively, the environment variables they use (``${NAME}``), and the
  listing of every local ``--find-links`` directory;
- the target interpreter: its tags, markers and version, and the distributions
  installed where it looks for them;
- the local index: the names of the archives in it;
- the versions of pip-accel and of pip.

A plan names the wheel of every distribution with the wheel's size and
modification time, and is used only while they are unchanged. Plans with
source trees or direct URLs (handed to pip, which decides what they become)
are not kept, and ``-U`` always resolves afresh.
"""

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pip_accel import __version__
from pip_accel.environment import TargetEnvironment
from pip_accel.files import write_atomically
from pip_accel.pip import CommandLine, pip_version
from pip_accel.plan import PlannedDistribution
from pip_accel.requirements import index_options, requirement_files

logger = logging.getLogger(__name__)

FORMAT = 1
"""The layout of a stored plan; part of every key."""

UNRELATED = frozenset({"python", "verbose", "quiet", "log", "no_color", "progress_bar"})
"""Options that change how a run reports, not what it plans."""

VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")
"""An environment variable in a requirements file, the way pip finds them."""

INSTALLED_SUFFIXES = (".dist-info", ".egg-info", ".egg-link")
"""The entries of a library directory that make a distribution installed."""


@dataclass(frozen=True)
class PlannedWheel:
    """One distribution of a stored plan, and the wheel that installs it."""

    name: str
    version: str
    requested: bool
    wheel: str
    size: int
    mtime_ns: int
    direct_url: dict[str, Any] | None = field(default=None, hash=False)
    """What ``direct_url.json`` says, for a requirement given as a URL or path."""

    @classmethod
    def of(cls, item: PlannedDistribution, wheel: Path) -> "PlannedWheel":
        """Describe the wheel of a planned distribution as it is now."""
        status = wheel.stat()
        direct_url = item.download_info if item.is_direct else None
        return cls(
            item.name, item.version, item.requested, str(wheel),
            status.st_size, status.st_mtime_ns, direct_url,
        )  # fmt: skip

    def __str__(self) -> str:
        """The name and version, for log messages."""
        return f"{self.name} {self.version}"

    @property
    def unchanged(self) -> bool:
        """Whether the wheel is still there, as it was when the plan was made."""
        try:
            status = os.stat(self.wheel)
        except OSError:
            return False
        return (status.st_size, status.st_mtime_ns) == (self.size, self.mtime_ns)


class PlanCache:
    """Plans of earlier runs under ``<data>/plans``, one file per key."""

    def __init__(
        self, directory: Path, index: Path, command_line: CommandLine, target: TargetEnvironment
    ) -> None:
        """Key plans by this command line and target; ``index`` is the local index."""
        self.directory = directory
        self.index = index
        self.question = _question(command_line, target)

    def key(self) -> str:
        """The key of the plan for the question, given the local index as it is now."""
        names = os.listdir(self.index) if self.index.is_dir() else []
        # Hidden entries are private: checksums, and downloads of other runs in progress.
        archives = sorted(name for name in names if not name.startswith("."))
        text = json.dumps([self.question, archives], sort_keys=True, default=_stable)
        return hashlib.sha256(text.encode()).hexdigest()

    def load(self) -> list[PlannedWheel] | None:
        """The stored plan, if there is one and every wheel it names is unchanged."""
        path = self.directory / f"{self.key()}.json"
        try:
            plan = [PlannedWheel(**item) for item in json.loads(path.read_text())]
        except (OSError, ValueError, TypeError):
            return None
        changed = [item.wheel for item in plan if not item.unchanged]
        if changed:
            logger.info("A wheel of the stored plan changed (%s); planning anew.", changed[0])
            return None
        return plan

    def store(self, plan: Iterable[PlannedWheel]) -> None:
        """Keep a plan under the key the local index gives now."""
        self.directory.mkdir(parents=True, exist_ok=True)
        data = json.dumps([asdict(item) for item in plan], indent=1).encode()
        write_atomically(self.directory / f"{self.key()}.json", data)


def _question(command_line: CommandLine, target: TargetEnvironment) -> dict[str, Any]:
    """Everything but the local index that the plan depends on."""
    options = {
        dest: value for dest, value in vars(command_line.options).items() if dest not in UNRELATED
    }
    files = requirement_files(command_line)
    return {
        "format": FORMAT,
        "versions": [__version__, pip_version()],
        "directory": os.getcwd(),
        "options": options,
        "arguments": command_line.arguments,
        "files": {str(path): _digest(path) for path in files},
        "variables": _variables(files),
        "find_links": _find_links(command_line),
        "interpreter": {
            key: target.info[key]
            for key in ("version", "implementation", "cache_tag", "tags", "markers", "in_venv")
        },
        "installed": _installed(target.info["sys_path"]),
    }


def _digest(path: Path) -> str:
    """The sha256 of a file's contents."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _variables(files: Iterable[Path]) -> dict[str, str | None]:
    """The environment variables that requirement files name as ``${NAME}`` (pip expands them)."""
    names = {name for path in files for name in VARIABLE.findall(path.read_text(errors="replace"))}
    return {name: os.environ.get(name) for name in sorted(names)}


def _find_links(command_line: CommandLine) -> dict[str, list[str]]:
    """The listing of every local ``--find-links`` directory (new archives change plans)."""
    tokens = index_options(command_line, find_links_only=True)
    places = list(command_line.options.find_links or []) + tokens[1::2]
    return {place: sorted(os.listdir(place)) for place in places if os.path.isdir(place)}


def _installed(directories: Iterable[str]) -> list[str]:
    """The distributions installed where the interpreter looks (the same in any new venv)."""
    found: set[str] = set()
    for directory in directories:
        if os.path.isdir(directory):
            found.update(
                name for name in os.listdir(directory) if name.endswith(INSTALLED_SUFFIXES)
            )
    return sorted(found)


def _stable(value: Any) -> Any:
    """A JSON form of option values that json cannot write, the same in every run."""
    if isinstance(value, (set, frozenset)):
        return sorted(map(str, value))
    if hasattr(value, "__dict__"):
        return vars(value)
    if hasattr(value, "__slots__"):
        return {name: getattr(value, name, None) for name in value.__slots__}
    return repr(value)
