"""What the package index listed for a project, and the release it gives for a requirement.

A freshness entry (:mod:`pip_accel.plan.freshness`) that only said *when* the index
was asked would let ``rich<14`` (13.9.4 then) make a later ``rich`` answer
13.9.4 from the local index, where pip installs 15.0.0. So the entry also
keeps the listing: every version of the project that has an archive pip may
take for the target (pip's finder filters by tags, ``Requires-Python`` and
``--only-binary``/``--no-binary``), and which of those are yanked. A release
from the local index is the index's answer only when it is the one pip's rule
picks from that listing for the requirement:

- the versions that match the specifier, pre-releases as ``--pre``,
  ``--all-releases`` and ``--only-final`` say (else: only when no final
  release matches, as :meth:`SpecifierSet.filter` has it, like pip);
- the newest of them that is not yanked, else the newest yanked one (pip
  ranks every yanked archive below any other).

What the rule cannot tell (``--prefer-binary`` picks an older wheel over a
newer sdist, ``--uploaded-prior-to`` a cut-off the listing does not record),
:func:`undecidable` names, and the package index is asked.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pip_accel.pip.command_line import CommandLine
from pip_accel.pip.requirements import RequirementFiles, requirement_texts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listing:
    """The versions the package index listed for one project, and the yanked ones."""

    versions: tuple[str, ...]
    """Every version with an archive pip may take, yanked ones included."""
    yanked: tuple[str, ...] = ()
    """The versions whose every archive is yanked."""

    def best(self, specifier: SpecifierSet, prereleases: bool | None) -> Version | None:
        """The version pip takes from this listing for ``specifier`` (None: none fits).

        ``prereleases``: True or False as pip's options say, None for pip's default.
        """
        versions = _parsed(self.versions)
        fitting = list(specifier.filter(versions, prereleases=prereleases))
        yanked = set(_parsed(self.yanked))
        kept = [version for version in fitting if version not in yanked]
        return max(kept or fitting, default=None)

    def to_json(self) -> dict[str, list[str]]:
        """The listing as it is kept in a freshness entry."""
        return {"versions": list(self.versions), "yanked": list(self.yanked)}

    @classmethod
    def from_json(cls, data: Any) -> "Listing | None":
        """The listing of a freshness entry; None when there is none or it is damaged."""
        if not isinstance(data, dict):
            return None
        versions, yanked = data.get("versions"), data.get("yanked", [])
        if not (isinstance(versions, list) and _strings(versions) and _strings(yanked)):
            return None
        return cls(tuple(versions), tuple(yanked))


@dataclass(frozen=True)
class ReleaseRule:
    """What a command line asks of each project's release: its specifiers and pre-releases."""

    specifiers: dict[str, SpecifierSet]
    """The specifier of each project the user requires by name, without a marker."""
    options: Any

    @classmethod
    def of(cls, command_line: CommandLine, files: RequirementFiles) -> "ReleaseRule":
        """The rule of a command line's requirements: arguments, requirement files,
        dependency groups and scripts' inline metadata."""
        texts = [*requirement_texts(command_line, files), *read_by_pip(command_line.options)]
        return cls(top_level_specifiers(texts), command_line.options)

    def specifier(self, project: str) -> SpecifierSet:
        """What the user asks of ``project``; nothing (any version) for a dependency.

        A dependency's range is its dependents' metadata, not read here: the
        listing's newest release is then the only one known to be pip's answer.
        """
        return self.specifiers.get(canonicalize_name(project), SpecifierSet())

    def prereleases(self, project: str) -> bool | None:
        """Whether pip takes pre-releases of ``project``: True, False, or None (its default)."""
        if getattr(self.options, "pre", False):
            return True
        control = getattr(self.options, "release_control", None)  # pip 26 and newer
        if control is None:
            return None
        # pip's ReleaseControl.allows_prereleases(), read from its two sets: a warm
        # start (pip_accel.cli.fast_start) restores the object by its fields, without methods.
        name = canonicalize_name(project)
        all_releases, only_final = control.all_releases, control.only_final
        for wanted in (name, ":all:"):
            if wanted in all_releases:
                return True
            if wanted in only_final:
                return False
        return None

    def answers(self, listing: Listing, project: str, version: str) -> bool:
        """Whether ``version`` of ``project`` is what pip takes from ``listing``."""
        best = listing.best(self.specifier(project), self.prereleases(project))
        try:
            return best is not None and best == Version(version)
        except InvalidVersion:
            return False


def undecidable(options: Any) -> str | None:
    """The option under which a listing cannot tell pip's answer, or None."""
    if getattr(options, "prefer_binary", False):
        return "--prefer-binary"
    if getattr(options, "uploaded_prior_to", None) is not None:
        return "--uploaded-prior-to"
    return None


def read_by_pip(options: Any) -> list[str]:
    """The requirements of ``--group`` and ``--requirements-from-script``, read with pip's own
    readers (pip 25.1 and newer have them); none when they cannot be read, and their
    projects then count as dependencies (any version), which asks the index if unsure."""
    texts: list[str] = []
    groups = getattr(options, "dependency_groups", None) or []
    scripts = getattr(options, "requirements_from_scripts", None) or []
    try:
        if groups:
            from pip._internal.req.req_dependency_group import parse_dependency_groups

            texts += parse_dependency_groups(list(groups))
        for script in scripts:
            from pip._internal.req.pep723 import pep723_metadata

            texts += [str(text) for text in pep723_metadata(script).get("dependencies", [])]
    except Exception as error:  # pip refuses what it cannot read, with its reason, when it plans
        logger.debug("The dependency groups or scripts cannot be read here: %s", error)
    return texts


def top_level_specifiers(texts: Iterable[str]) -> dict[str, SpecifierSet]:
    """The specifiers of requirements by name, combined per project.

    A requirement with a marker, or a URL, or that does not parse, says
    nothing here (its project is then treated as a dependency: any version).
    """
    found: dict[str, SpecifierSet] = {}
    skipped: set[str] = set()
    for text in texts:
        try:
            requirement = Requirement(text.strip())
        except InvalidRequirement:
            continue
        name = canonicalize_name(requirement.name)
        if requirement.marker is not None or requirement.url:
            skipped.add(name)
            continue
        found[name] = found.get(name, SpecifierSet()) & requirement.specifier
    return {name: specifier for name, specifier in found.items() if name not in skipped}


def _parsed(texts: Iterable[str]) -> list[Version]:
    """The versions among ``texts`` that parse (pip ignores the others too)."""
    versions = []
    for text in texts:
        try:
            versions.append(Version(text))
        except InvalidVersion:
            continue
    return versions


def _strings(value: Any) -> bool:
    """Whether ``value`` is a list of strings."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)
