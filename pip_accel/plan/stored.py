"""The plan cache: what an earlier run planned, reused when nothing it depends on changed.

Resolution is most of a warm run, and it gives the same answer for the same
question. The question is everything pip's plan depends on, and it makes the
key of the cache:

- the command line as pip's parser read it, pip's configuration files and
  ``PIP_*`` variables included (they are the defaults of the parsed options),
  but for the options that only say how to reach the network or where pip's
  cache is;
- the contents (not the paths) of every requirements and constraints file it
  names, followed recursively, the environment variables they use
  (``${NAME}``), and the listing of every local ``--find-links`` directory;
- the contents of the other files that name requirements: the
  ``pyproject.toml`` of each dependency group (``--group``), a script with
  inline metadata (``--requirements-from-script``) and build constraints
  (``--build-constraint``);
- the target interpreter: its tags, markers (but the kernel's) and version,
  and the distributions installed where it looks for them;
- the local index: the names of the archives in it;
- the versions of pip-accel and of pip.

A plan names the wheel of every distribution with the wheel's size and
modification time, and is used only while they are unchanged; a plan from the
fleet's names a wheel it did not fetch by its sha256 alone (its tree came from
the bucket), and is used while that wheel is still absent. Plans with
source trees or direct URLs (handed to pip, which decides what they become)
are not kept, and ``-U`` always resolves afresh.

A stored plan is trusted only after it is checked (:func:`parse_plan`): an
empty or truncated file, a file of another format or key, or one edited by
hand would otherwise install nothing, or the wrong wheels, on every later
run. A damaged plan is removed with a warning and the run plans anew, which
stores a good plan in its place.
"""

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from pip_accel import __version__
from pip_accel.environment import TargetEnvironment
from pip_accel.files import write_atomically
from pip_accel.pip.command_line import CommandLine
from pip_accel.pip.commands import UNRELATED_TO_PLANS
from pip_accel.pip.requirements import RequirementFiles, index_options
from pip_accel.pip.runner import pip_version
from pip_accel.plan.document import ENVELOPE, checksum, plan_document
from pip_accel.plan.plan import PlannedWheel

logger = logging.getLogger(__name__)

FORMAT = 3
"""The layout of a stored plan; part of every key."""

PLAN_FIELDS = ENVELOPE
"""The fields of a stored plan, and no others."""

INTERPRETER = ("version", "implementation", "cache_tag", "tags", "in_venv")
"""What of the target interpreter is part of the question, besides its markers."""

KERNEL_MARKERS = frozenset({"platform_release", "platform_version"})
"""Markers that name the running kernel (see :func:`_interpreter`)."""

FILE_OPTIONS = ("requirements", "constraints", "requirements_from_scripts", "build_constraints")
"""Options that name files: the key holds their contents, not their paths."""

GROUPS = "dependency_groups"
"""The option of PEP 735 dependency groups: ``(path, group)`` pairs, the file by its contents."""

SHA256 = re.compile("[0-9a-f]{64}")
"""The sha256 of a wheel, as a plan names it."""

VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")
"""An environment variable in a requirements file, the way pip finds them."""

INSTALLED_SUFFIXES = (".dist-info", ".egg-info", ".egg-link")
"""The entries of a library directory that make a distribution installed."""


class PlanCache:
    """Plans of earlier runs under ``<data>/plans``, one file per key."""

    def __init__(
        self,
        directory: Path,
        index: Path,
        command_line: CommandLine,
        target: TargetEnvironment,
        build_environment: Mapping[str, str] | None = None,
        files: RequirementFiles | None = None,
    ) -> None:
        """Key plans by this command line and target; ``index`` is the local index.

        ``build_environment``: the variables of the build settings that are
        set (:class:`~pip_accel.builds.settings.BuildSettings`), since a plan
        names wheels built with them; ``files``: the requirement files, if read already.
        """
        self.directory = directory
        self.index = index
        self.question = _question(command_line, target, files)
        self.question["build_environment"] = dict(build_environment or {})

    def shared_key(self) -> str:
        """The key of the plan for the question alone, which any machine asking it computes."""
        text = json.dumps(["shared", self.question], sort_keys=True, default=_stable)
        return hashlib.sha256(text.encode()).hexdigest()

    def key(self) -> str:
        """The key of the plan for the question, given the local index as it is now."""
        names = os.listdir(self.index) if self.index.is_dir() else []
        # Hidden entries are private: checksums, and downloads of other runs in progress.
        archives = sorted(name for name in names if not name.startswith("."))
        text = json.dumps([self.question, archives], sort_keys=True, default=_stable)
        return hashlib.sha256(text.encode()).hexdigest()

    def path(self) -> Path:
        """The file of the plan for the question, given the local index as it is now."""
        return self.directory / f"{self.key()}.json"

    def load(self) -> list[PlannedWheel] | None:
        """The stored plan, if there is one, it is sound and every wheel it names is unchanged.

        A damaged plan is removed, with a warning, so that the run plans anew
        and stores a good plan in its place.
        """
        key = self.key()
        path = self.directory / f"{key}.json"
        try:
            plan = parse_plan(json.loads(path.read_bytes()), key)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError) as error:
            logger.warning(
                "The stored plan %s is damaged (%s); planning anew.", path, _reason(error)
            )
            _remove(path)
            return None
        changed = [item.wheel for item in plan if not item.unchanged]
        if changed:
            logger.info("A wheel of the stored plan changed (%s); planning anew.", changed[0])
            return None
        return plan

    def store(self, plan: Iterable[PlannedWheel]) -> None:
        """Keep a plan under the key the local index gives now.

        A plan only saves time, so a plan that cannot be stored is a warning,
        not a failed install.
        """
        key = self.key()
        path = self.directory / f"{key}.json"
        wheels = [asdict(item) for item in plan]
        document = plan_document(FORMAT, key, wheels)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            write_atomically(path, json.dumps(document, indent=1).encode())
        except OSError as error:
            logger.warning("The plan could not be stored as %s (%s).", path, error)


class DamagedPlanError(ValueError):
    """A stored plan that cannot be trusted; the message says what is wrong with it."""


def parse_plan(data: Any, key: str) -> list[PlannedWheel]:
    """The wheels of a stored plan (parsed JSON) for ``key``, once it is known to be sound.

    Checks the layout, the format, the key (a plan copied or renamed to
    another key answers another question), the checksum of the wheels (a
    truncated or edited plan), and every field of every wheel, so that
    nothing but a plan that this version stored can be used. An empty list
    of wheels is a sound plan (everything is installed already), but a bare
    list or an empty object is not.

    Raises :class:`DamagedPlanError`, which says what is wrong.
    """
    if not isinstance(data, dict):
        raise DamagedPlanError(f"it is a JSON {_json_type(data)}, not an object")
    _check_fields("it", data, PLAN_FIELDS)
    if type(data["format"]) is not int or data["format"] != FORMAT:
        raise DamagedPlanError(f"its format is {_short(data['format'])}, not {FORMAT}")
    if data["key"] != key:
        raise DamagedPlanError(f"it was stored for another key, {_short(data['key'])}")
    wheels = data["wheels"]
    if not isinstance(wheels, list):
        raise DamagedPlanError(f"its wheels are a JSON {_json_type(wheels)}, not an array")
    if data["sha256"] != checksum(wheels):
        raise DamagedPlanError("its wheels do not match their sha256")
    return [_parse_wheel(number, item) for number, item in enumerate(wheels, start=1)]


WHEEL_FIELDS = frozenset(item.name for item in fields(PlannedWheel))
"""The fields of a wheel of a stored plan, and no others."""


def _parse_wheel(number: int, item: Any) -> PlannedWheel:
    """Entry ``number`` (from 1) of the wheels of a stored plan, once each field is sound."""
    if not isinstance(item, dict):
        raise DamagedPlanError(
            f"entry {number} of its wheels is a JSON {_json_type(item)}, not an object"
        )
    _check_fields(f"entry {number} of its wheels", item, WHEEL_FIELDS)
    for name in ("name", "version", "wheel"):
        if not isinstance(item[name], str) or not item[name]:
            raise _field_error(number, name, item[name], "a non-empty string")
    if not isinstance(item["requested"], bool):
        raise _field_error(number, "requested", item["requested"], "true or false")
    for name in ("size", "mtime_ns"):
        value = item[name]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _field_error(number, name, value, "a whole number, zero or more")
    if item["direct_url"] is not None and not isinstance(item["direct_url"], dict):
        raise _field_error(number, "direct_url", item["direct_url"], "an object or null")
    if not os.path.isabs(item["wheel"]) or not item["wheel"].endswith(".whl"):
        raise _field_error(number, "wheel", item["wheel"], "the absolute path of a wheel")
    sha256 = item["sha256"]
    if sha256 is not None and (not isinstance(sha256, str) or not SHA256.fullmatch(sha256)):
        raise _field_error(number, "sha256", sha256, "a sha256 in hex or null")
    return PlannedWheel(**item)


def _field_error(number: int, name: str, value: Any, expected: str) -> DamagedPlanError:
    """The error for a field of entry ``number`` of the wheels of a stored plan."""
    return DamagedPlanError(
        f"the {name} of entry {number} of its wheels is {_short(value)}, not {expected}"
    )


def _json_type(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words, for the reason a plan is damaged."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def _check_fields(what: str, value: dict[str, Any], expected: frozenset[str]) -> None:
    """Make sure that an object of a stored plan has the expected fields, and no others."""
    missing = expected.difference(value)
    if missing:
        raise DamagedPlanError(f"{what} lacks {', '.join(sorted(missing))}")
    unknown = set(value).difference(expected)
    if unknown:
        raise DamagedPlanError(f"{what} has unknown fields {_short(sorted(unknown))}")


def _short(value: Any, limit: int = 80) -> str:
    """A value as Python writes it, cut short, for the reason a plan is damaged."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reason(error: BaseException) -> str:
    """What is wrong with a stored plan that could not be read or parsed."""
    if isinstance(error, DamagedPlanError):
        return str(error)
    if isinstance(error, RecursionError):
        return "it is nested too deeply"
    if isinstance(error, UnicodeDecodeError):
        return "it is not text"
    if isinstance(error, json.JSONDecodeError):
        return f"it is not JSON: {error}"
    if isinstance(error, OSError):
        return f"it cannot be read: {error.strerror or error}"
    return str(error)


def _remove(path: Path) -> None:
    """Remove a damaged plan, if it can be removed: the run plans anew either way."""
    try:
        path.unlink(missing_ok=True)
    except OSError as error:
        logger.warning("The damaged plan %s could not be removed (%s).", path, error)


def _question(
    command_line: CommandLine, target: TargetEnvironment, files: RequirementFiles | None = None
) -> dict[str, Any]:
    """Everything but the local index that the plan depends on, and no path of this machine.

    Requirement files (``files``, if read) count by their contents, so a copy of a
    requirements file in another checkout or CI workspace asks the same question. Paths count
    only where they change what pip plans: local ``--find-links`` directories (by absolute
    path and listing); plans of local directories, archives and editables are not stored at
    all, save those of local projects with static metadata (:mod:`pip_accel.plan.stand_ins`).
    """
    options = {
        dest: value
        for dest, value in vars(command_line.options).items()
        if dest not in UNRELATED_TO_PLANS
    }
    for dest in FILE_OPTIONS:
        options[dest] = [_contents(name) for name in options.get(dest) or []]
    if options.get(GROUPS):  # pip 25.1 and newer
        options[GROUPS] = [(_contents(path), group) for path, group in options[GROUPS]]
    files = files or RequirementFiles.of(command_line)
    texts = [file.text for file in files.files]
    return {
        "format": FORMAT,
        "versions": [__version__, pip_version()],
        "options": options,
        "arguments": command_line.arguments,
        "files": [file.sha256 for file in files.files],
        "variables": _variables(texts),
        "find_links": _find_links(command_line, files),
        "interpreter": _interpreter(target, [*texts, *_other_sources(command_line)]),
        "installed": _installed(target.info["sys_path"]),
    }


def _interpreter(target: TargetEnvironment, texts: Sequence[str]) -> dict[str, Any]:
    """What the plan depends on of the target interpreter.

    The kernel's release and version (markers ``platform_release`` and
    ``platform_version``) differ between the machines of a fleet and would keep
    them from sharing plans, yet hardly any requirement depends on them: they
    count only when a requirement file names them.
    """
    info = {key: target.info[key] for key in INTERPRETER}
    info["markers"] = {
        name: value
        for name, value in target.info["markers"].items()
        if name not in KERNEL_MARKERS or any(name in text for text in texts)
    }
    return info


def _other_sources(command_line: CommandLine) -> list[str]:
    """The texts of the local files besides requirement files that name requirements: the
    ``pyproject.toml`` (or lock file) of each dependency group, scripts with
    inline metadata, and build constraints."""
    options = command_line.options
    names = [path for path, _ in getattr(options, GROUPS, None) or []]
    for dest in FILE_OPTIONS[2:]:
        names += getattr(options, dest, None) or []
    paths = [Path(name) for name in names if "://" not in name and Path(name).is_file()]
    return [path.read_text(errors="replace") for path in paths]


def _contents(name: str) -> str:
    """A requirement file named on the command line, as its sha256 (a URL stays as it is)."""
    path = Path(name)
    return _digest(path) if "://" not in name and path.is_file() else name


def _digest(path: Path) -> str:
    """The sha256 of a file's contents."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _variables(texts: Iterable[str]) -> dict[str, str | None]:
    """The environment variables that requirement files (their ``texts``) name as ``${NAME}``
    (pip expands them)."""
    names = {name for text in texts for name in VARIABLE.findall(text)}
    return {name: os.environ.get(name) for name in sorted(names)}


def _find_links(command_line: CommandLine, files: RequirementFiles) -> dict[str, list[str]]:
    """The listing of every local ``--find-links`` directory (new archives change plans)."""
    tokens = index_options(files, True)
    places = list(command_line.options.find_links or []) + tokens[1::2]
    return {
        os.path.abspath(place): sorted(os.listdir(place))
        for place in places
        if os.path.isdir(place)
    }


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
