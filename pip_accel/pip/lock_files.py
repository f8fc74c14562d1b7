"""Lock files (PEP 751) named with ``-r``: which they are, and when pip must answer them.

pip 26.1 and newer read a ``pylock.toml`` named with ``-r``; pip-accel plans an install of
lock files alone itself (:mod:`pip_accel.plan.locked`) and hands pip the command lines
whose answer is pip's: an older pip, a lock beside other requirements, an option that
changes what pip does with a lock. Options pip refuses beside a lock are refused here
with pip's words.
"""

from packaging.version import Version

from pip_accel.exceptions import LockFileError
from pip_accel.pip.command_line import CommandLine
from pip_accel.pip.format_choice import FormatChoice
from pip_accel.pip.requirements import RequirementFiles, lock_source

LOCK_PIP = "26.1"
"""The first pip that reads a lock file named with ``-r`` (older ones read it as requirements)."""


LOCK_HANDED_OVER = {
    "constraints": "constraints",
    "upgrade": "--upgrade",
    "force_reinstall": "--force-reinstall",
    "ignore_installed": "--ignore-installed",
    "ignore_dependencies": "--no-deps",
    "only_dependencies": "--only-deps",
    "ignore_requires_python": "--ignore-requires-python",
    "release_control": "--only-final or --all-releases",
}
"""Options (by destination) that change what pip does with a lock file: pip answers them."""


DIST_RESTRICTIONS = ("python_version", "platforms", "abis", "implementation")
"""pip's options for another platform or interpreter, which it refuses beside a lock file."""


def lock_files(command_line: CommandLine) -> list[tuple[str, frozenset[str]]]:
    """The lock files that ``-r`` names (pip's options, configuration included), with the
    extras after each name, in order."""
    names = getattr(command_line.options, "requirements", None) or []
    return [lock for name in names if (lock := lock_source(name)) is not None]


def names_lock_file(command_line: CommandLine) -> bool:
    """Whether ``-r`` or ``--group`` (``pylock.toml:name``) names a lock file."""
    groups = getattr(command_line.options, "dependency_groups", None) or []
    return bool(lock_files(command_line)) or any(lock_source(path) for path, _ in groups)


def only_lock_files(command_line: CommandLine) -> bool:
    """Whether the requirements are lock files alone: no argument, editable, group, script
    or requirements file beside them."""
    options = command_line.options
    names = getattr(options, "requirements", None) or []
    others = [getattr(options, dest, None) for dest in
              ("editables", "dependency_groups", "requirements_from_scripts")]  # fmt: skip
    return (
        bool(names)
        and len(lock_files(command_line)) == len(names)
        and not (command_line.arguments or any(others))
    )


def lock_handed_over(command_line: CommandLine, pip: str) -> str | None:
    """Why pip plans a command line that names a lock file (with pip ``pip``), else None.

    A pip older than 26.1 reads the file as a requirements file, and says what
    it makes of it; beside other requirements, or with an option that changes
    what pip does with a lock, pip's own answer is the one to give.

    :raises LockFileError: pip refuses the command line, with pip's reason.
    """
    if not names_lock_file(command_line):
        return None
    if Version(pip) < Version(LOCK_PIP):
        return f"pip {pip} reads no lock files (pip {LOCK_PIP} and newer do)"
    check_dist_restrictions(command_line)
    if not only_lock_files(command_line):
        return "pip plans a lock file beside other requirements"
    for dest, option in LOCK_HANDED_OVER.items():
        if _is_set(getattr(command_line.options, dest, None)):
            return f"pip decides what {option} does with a lock file"
    if any("://" in name for name, _ in lock_files(command_line)):
        return "the lock file is named by a URL"
    return None


def check_dist_restrictions(command_line: CommandLine) -> None:
    """Refuse ``--platform``, ``--python-version``, ``--abi`` and ``--implementation``
    beside a lock file as pip 26 refuses them (pip's checks, in pip's order).

    :raises LockFileError: with pip's message.
    """
    options = command_line.options
    if not any(getattr(options, dest, None) for dest in DIST_RESTRICTIONS):
        return
    names = "--python-version, --platform, --abi, or --implementation"
    choice = FormatChoice.of(command_line, RequirementFiles.of(command_line))
    binary_only = choice.only_binary == {":all:"} and not choice.no_binary
    if not (binary_only or options.ignore_dependencies):
        raise LockFileError(
            f"When restricting platform and interpreter constraints using {names}, either"
            " --no-deps must be set, or --only-binary=:all: must be set and --no-binary must"
            " not be set (or must be set to :none:)."
        )
    if not (options.dry_run or options.target_dir):
        raise LockFileError(
            "Can not use any platform or abi specific options unless installing via"
            " '--target' or using '--dry-run'"
        )
    first = (lock_files(command_line) or [("pylock.toml", frozenset())])[0][0]
    raise LockFileError(
        f"Platform and interpreter constraints using {names}, are not supported when"
        f" selecting requirements from {first!r}"
    )


def _is_set(value: object) -> bool:
    """Whether an option's value is not its default (pip 26's release control is an object
    of empty sets by default)."""
    if hasattr(value, "__dataclass_fields__"):
        return any(getattr(value, name) for name in value.__dataclass_fields__)
    return bool(value)
