"""A plan without pip, for a set of pins (a lock file) whose wheels are in the local index.

When every requirement is ``name==version`` (extras allowed), no option
changes how pip resolves, none of the pinned projects is installed in the
target yet, the local index has exactly one best wheel for the target for each
pin, and every dependency those wheels declare (for the target's markers and
the extras asked for) is one of the pins at a version it allows, pip's
resolver has no choice to make: it would install exactly the pins. pip-accel
then makes that plan from the wheels' metadata, in the order of the
requirements, instead of starting pip (about a second of a first run).
Anything else (a range, a marker, a constraint, an sdist, a dependency that
is not pinned, a pinned version a dependency does not allow) leaves the plan
to pip, which also says what is wrong, if anything is.
"""

import dataclasses
import logging
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from pip_accel.plan.plan import Plan, PlannedDistribution

logger = logging.getLogger(__name__)

RESOLUTION_DESTS = frozenset({
    "abis", "build_constraints", "constraints", "dependency_groups", "editables",
    "features_enabled", "deprecated_features_enabled", "force_reinstall",
    "ignore_dependencies", "ignore_installed", "ignore_requires_python", "implementation",
    "only_dependencies", "platforms", "prefix_path", "python_version", "refresh_package",
    "release_control", "require_hashes", "requirements_from_scripts", "root_path",
    "target_dir", "upgrade", "uploaded_prior_to", "use_user_site",
})  # fmt: skip
"""pip's install options (by destination) that change what its resolver does or where it
installs: each must be unset (from the command line, the environment or a configuration
file) for a plan without pip."""


class NoPinnedPlan(Exception):
    """The requirements are not a set of pins whose plan is certain; says why."""


@dataclass
class Pin:
    """One pinned project: its version, the extras asked for, and its wheel."""

    name: NormalizedName
    version: Version
    extras: set[str] = field(default_factory=set)
    wheel: Path | None = None
    metadata: Message | None = None


def unset_resolution_options(options: Any) -> None:
    """Refuse options that change pip's resolution (see :data:`RESOLUTION_DESTS`)."""
    for dest in sorted(RESOLUTION_DESTS):
        if not _unset(getattr(options, dest, None)):
            raise NoPinnedPlan(f"the option {dest} is set")


def _unset(value: Any) -> bool:
    """Whether an option's value is its default: empty, or an object of empty fields
    (pip 26's release control is ``ReleaseControl(all_releases=set(), only_final=set())``)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return not any(getattr(value, item.name) for item in dataclasses.fields(value))
    return not value


def read_pins(requirements: Iterable[tuple[str, str, Iterable[str]]]) -> dict[str, Pin]:
    """The pins by canonical name, extras merged; two versions of one project: refused."""
    pins: dict[str, Pin] = {}
    for name, text, extras in requirements:
        canonical = canonicalize_name(name)
        try:
            version = Version(text)
        except InvalidVersion as error:
            raise NoPinnedPlan(f"{name}=={text} is not a version pip-accel reads") from error
        pin = pins.setdefault(canonical, Pin(canonical, version))
        if pin.version != version:
            raise NoPinnedPlan(f"{canonical} is pinned to two versions")
        pin.extras |= {canonicalize_name(extra) for extra in extras}
    if not pins:
        raise NoPinnedPlan("there is nothing to install")
    return pins


def choose_wheels(pins: Mapping[str, Pin], wheels: Iterable[Path], tags: Sequence[str]) -> None:
    """Give each pin the wheel of its version that fits the target best (pip's choice).

    ``wheels`` are those pip may take (by kind and tag); ``tags`` the target's,
    best first. A tie between two wheels, or a pin without one, is refused.
    """
    rank = {tag: position for position, tag in enumerate(tags)}
    best: dict[str, tuple[int, list[Path]]] = {}
    for wheel in wheels:
        name, version, _, wheel_tags = parse_wheel_filename(wheel.name)
        pin = pins.get(name)
        if pin is None or version != pin.version:
            continue
        score = min((rank[str(tag)] for tag in wheel_tags if str(tag) in rank), default=None)
        if score is None:
            continue
        if name not in best or score < best[name][0]:
            best[name] = (score, [wheel])
        elif score == best[name][0]:
            best[name][1].append(wheel)
    for project, pin in pins.items():
        found = best.get(project, (0, []))[1]
        if len(found) != 1:
            raise NoPinnedPlan(f"the local index has {len(found)} best wheels of {project}")
        pin.wheel = found[0]


def read_metadata(wheel: Path) -> Message:
    """The ``METADATA`` of a wheel (its headers: no description needed)."""
    with zipfile.ZipFile(wheel) as archive:
        paths = [item for item in archive.namelist() if _is_metadata(item)]
        if len(paths) != 1:
            raise NoPinnedPlan(f"{wheel.name} has {len(paths)} METADATA files")
        return BytesHeaderParser().parsebytes(archive.read(paths[0]))


def _is_metadata(path: str) -> bool:
    """Whether a member of a wheel is the ``METADATA`` of a top-level ``.dist-info``."""
    parts = path.split("/")
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA"


def check_python(pin: Pin, metadata: Message, python_version: str) -> None:
    """Refuse a wheel whose ``Requires-Python`` the target does not satisfy."""
    requires = metadata.get("Requires-Python")
    if not requires:
        return
    try:
        allowed = SpecifierSet(requires).contains(python_version, prereleases=True)
    except InvalidSpecifier as error:
        raise NoPinnedPlan(f"{pin.name} has an invalid Requires-Python") from error
    if not allowed:
        raise NoPinnedPlan(f"{pin.name} {pin.version} requires Python {requires}")


def dependencies(
    metadata: Message, extras: set[str], markers: Mapping[str, str]
) -> list[Requirement]:
    """The requirements of a distribution that apply to the target with these extras."""
    applying = []
    for text in metadata.get_all("Requires-Dist") or []:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as error:
            raise NoPinnedPlan(f"the requirement {text!r} is invalid") from error
        if requirement.marker is None or _applies(requirement.marker, extras, markers):
            applying.append(requirement)
    return applying


def _applies(marker: Marker, extras: set[str], markers: Mapping[str, str]) -> bool:
    """Whether a marker holds for the target, without an extra or with one asked for."""
    return any(marker.evaluate({**markers, "extra": extra}) for extra in ("", *sorted(extras)))


def close_over_dependencies(
    pins: Mapping[str, Pin], markers: Mapping[str, str], python_version: str
) -> None:
    """Check that every dependency is a pin it allows; add the extras it asks for.

    A pin whose extras grow is looked at again, until nothing changes.
    """
    waiting = list(pins)
    seen: dict[str, set[str]] = {}
    while waiting:
        pin = pins[waiting.pop(0)]
        if seen.get(pin.name) == pin.extras:
            continue
        seen[pin.name] = set(pin.extras)
        assert pin.wheel is not None
        if pin.metadata is None:
            pin.metadata = read_metadata(pin.wheel)
            check_python(pin, pin.metadata, python_version)
        provided = {
            canonicalize_name(item) for item in pin.metadata.get_all("Provides-Extra") or []
        }
        if not pin.extras <= provided:
            raise NoPinnedPlan(
                f"{pin.name} does not provide the extras {sorted(pin.extras - provided)}"
            )
        for requirement in dependencies(pin.metadata, pin.extras, markers):
            waiting += _pinned_dependency(pins, pin, requirement)


def _pinned_dependency(pins: Mapping[str, Pin], parent: Pin, requirement: Requirement) -> list[str]:
    """Check one dependency; return the name of its pin when that needs a new look."""
    name = canonicalize_name(requirement.name)
    pin = pins.get(name)
    if pin is None or requirement.url:
        raise NoPinnedPlan(f"{parent.name} needs {requirement}, which is not pinned")
    if not requirement.specifier.contains(pin.version, prereleases=True):
        raise NoPinnedPlan(f"{parent.name} needs {requirement}, not {name} {pin.version}")
    extras = {canonicalize_name(extra) for extra in requirement.extras}
    if extras <= pin.extras:
        return []
    pin.extras |= extras
    return [name]


def installed_projects(paths: Iterable[str]) -> set[NormalizedName]:
    """The projects installed in the directories of a target's ``sys.path``."""
    found: set[NormalizedName] = set()
    for directory in paths:
        try:
            names = [entry.name for entry in Path(directory).iterdir()]
        except OSError:
            continue
        for entry in names:
            if entry.endswith((".dist-info", ".egg-info")):
                found.add(canonicalize_name(entry.rsplit(".", 1)[0].split("-", 1)[0]))
    return found


def to_plan(pins: Mapping[str, Pin]) -> Plan:
    """The plan: each pin, requested, from its wheel, in the order of the requirements."""
    distributions = []
    for pin in pins.values():
        assert pin.wheel is not None and pin.metadata is not None
        url = pin.wheel.absolute().as_uri()
        version = str(pin.metadata.get("Version", pin.version))
        info = {"url": url, "archive_info": {}}
        distributions.append(PlannedDistribution(pin.name, version, url, True, False, info))
    return Plan(distributions)


def pinned_plan(
    requirements: list[tuple[str, str, list[str]]] | None,
    options: Any,
    wheels: list[Path],
    target: Mapping[str, Any],
    tags: Sequence[str],
) -> Plan | None:
    """The plan of a set of pins, when it is certain; None when pip must make it.

    ``requirements`` are the pins (None: not every requirement is one),
    ``options`` pip's parsed options, ``wheels`` those of the local index
    pip may take, ``target`` what :mod:`pip_accel._probe` says of the target
    interpreter and ``tags`` its tags, best first. Why pip plans goes to the
    debug log.
    """
    try:
        if requirements is None:
            raise NoPinnedPlan("not every requirement is a pin")
        unset_resolution_options(options)
        pins = read_pins(requirements)
        installed = sorted(installed_projects(target["sys_path"]) & set(pins))
        if installed:
            raise NoPinnedPlan(f"{installed[0]} is installed already")
        choose_wheels(pins, wheels, tags)
        markers = target["markers"]
        close_over_dependencies(pins, markers, str(markers["python_full_version"]))
    except (NoPinnedPlan, OSError, ValueError, zipfile.BadZipFile) as reason:
        logger.debug("Asking pip for the plan: %s.", reason)
        return None
    return to_plan(pins)
