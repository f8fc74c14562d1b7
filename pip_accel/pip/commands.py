"""The pip commands that pip-accel runs, and which of the user's options each one gets.

Every command line of pip is put together here: which of the user's options
each pip command gets (those its own parser accepts, less what pip-accel sets
itself), and what pip-accel adds.
"""

from collections.abc import Iterable, Sequence
from pathlib import Path

from pip_accel.pip.command_line import (
    INDEX_DESTS,
    REQUIREMENT_DESTS,
    CommandLine,
    command_dests,
)

HANDED_OVER: dict[str, str] = {}
"""Install options with which pip-accel hands the whole command to pip, and why.

``--dry-run`` and ``--report`` are not among them: they describe pip-accel's
own plan (:mod:`pip_accel.plan.dry_run`)."""

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


def building_download_arguments(command_line: CommandLine) -> list[str] | None:
    """What ``pip wheel`` gets to download and build everything the requirements need, or
    None when it cannot stand in for ``pip download`` (see :func:`building_download_command`).

    That is when an option of the command line is one that ``pip download``
    takes and ``pip wheel`` does not (``--platform``, ``--python-version``,
    ``--abi``, ``--implementation``: a plan for another interpreter, which
    pip must not build for this one).
    """
    given = {group.dest for group in command_line.groups if group.dest}
    if given & (command_dests("download") - command_dests("wheel")):
        return None
    options = command_line.tokens_for("wheel", {"python", "wheel_dir", "only_dependencies"})
    return [*options, *command_line.arguments]


def building_download_command(wheel_dir: Path, find_links: Path, args: Sequence[str]) -> list[str]:
    """``pip wheel`` of the whole set into ``wheel_dir``, taking what ``find_links`` has.

    pip resolves as ``pip download`` would, and builds each sdist in the
    isolated environment in which it prepared the sdist's metadata: one build
    environment per sdist, as ``pip install`` makes, where a download followed
    by ``pip wheel --no-deps`` makes two.
    """
    return ["wheel", "--wheel-dir", str(wheel_dir), "--progress-bar", "off",
            "--find-links", str(find_links), *args]  # fmt: skip


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
