"""What ``--dry-run`` and ``--report`` say: pip-accel's own plan, the one its install uses.

Both describe the plan that :class:`~pip_accel.accelerator.PipAccelerator`
made (a stored plan, or the planner's), never a resolution of their own, so
``pip-accel install --dry-run --report FILE ...`` names exactly what the same
command without ``--dry-run`` installs. A dry run plans as an install does
(downloading and building what the plan needs, into pip-accel's own caches)
and then changes nothing in the target: it takes no environment lock,
finishes no interrupted transaction, unpacks and links nothing, and hands
nothing to pip. It prints pip's line, ``Would install name-version ...``,
on standard output (not with ``-q``, as pip).

Editables, local directories, VCS checkouts and remote URLs, which an install
hands to pip, were planned by pip itself: the planner asks pip for a dry run
of the whole requirement set (:mod:`pip_accel.plan.planner`), which prepares their
metadata the way ``pip install --dry-run`` would. Their entries of that
report are reused as they are; no further pip runs for them.

The entry of a wheel pip-accel installs is made from the wheel's
``METADATA`` (:mod:`pip_accel.plan.install_report`). Its ``download_info`` names the
archive of the local index that the wheel is, or was built from (the sdist:
its sha256 is the one the package index published), as a ``file:`` URL: the
local index does not keep the URL an archive was downloaded from. A wheel
from a cache backend whose sdist the local index lacks is named itself. A
requirement given as a URL or path keeps pip's own ``download_info``.
"""

import contextlib
import logging
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from pip_accel.exceptions import ReportError
from pip_accel.pip.command_line import CommandLine
from pip_accel.pip.requirements import RequirementFiles, requirement_texts
from pip_accel.pip.runner import pip_version
from pip_accel.plan.install_report import (
    STDOUT,
    archive_info,
    entry,
    installation_report,
    metadata_json,
    would_install,
    write_report,
)
from pip_accel.plan.plan import PlannedDistribution, PlannedWheel
from pip_accel.report.reporter import Reporter
from pip_accel.request import InstallRequest
from pip_accel.sources.local_index import Archive, LocalIndex, wheel_metadata

logger = logging.getLogger(__name__)


def describe(
    request: InstallRequest,
    wheels: Sequence[PlannedWheel],
    handed_to_pip: Sequence[PlannedDistribution],
    reporter: Reporter | None = None,
    stdout: TextIO | None = None,
) -> None:
    """Write the report ``--report`` asks for and print the line of ``--dry-run``.

    ``wheels`` and ``handed_to_pip`` are the plan, in install order;
    ``reporter``'s live line is taken away while standard output is written.
    """
    options = request.command_line.options
    out = stdout or sys.stdout
    index = LocalIndex(request.config.source_index)
    extras = requested_extras(request.command_line, request.requirements)
    items = [wheel_entry(item, index, extras.get(canonicalize_name(item.name), ()))
             for item in wheels] + [pip_entry(item) for item in handed_to_pip]  # fmt: skip
    with reporter.pause() if reporter is not None else contextlib.nullcontext():
        if options.json_report_file:
            markers = request.target.info["markers"]
            report = installation_report(items, markers, pip_version())
            write_report(report, options.json_report_file, out)
            if options.json_report_file != STDOUT:
                logger.info("Wrote the installation report to %s.", options.json_report_file)
        if options.dry_run:
            line = would_install(items)
            if line is None:
                logger.info("Nothing would be installed: every requirement is installed already.")
            elif (options.verbose or 0) >= (options.quiet or 0):  # pip's line is an INFO line
                out.write(line + "\n")
                out.flush()


def wheel_entry(item: PlannedWheel, index: LocalIndex, extras: Iterable[str]) -> dict[str, Any]:
    """The report's entry of a wheel that pip-accel installs; ``extras``: those asked for."""
    wheel = Path(item.wheel)
    raw = wheel_metadata(wheel)
    if raw is None:
        raise ReportError(f"Cannot read the METADATA of {wheel}; run again without --dry-run"
                          " and --report to have it replaced.")  # fmt: skip
    metadata = metadata_json(raw.decode("utf-8", errors="replace"))
    if item.direct_url is not None:
        return entry(metadata, item.direct_url, item.requested, True, extras)
    source = source_archive(wheel, index)
    info = archive_info(source.absolute().as_uri(), index.sha256(source))
    return entry(metadata, info, item.requested, False, extras)


def pip_entry(item: PlannedDistribution) -> dict[str, Any]:
    """The report's entry of what pip installs: pip's own, from the planner's report."""
    if item.report:
        return item.report
    metadata = {"name": item.name, "version": item.version}  # planned without pip's report
    return entry(metadata, item.download_info, item.requested, item.is_direct)


def source_archive(wheel: Path, index: LocalIndex) -> Path:
    """The archive of the local index that ``wheel`` is or was built from, else the wheel.

    A cached wheel lies in a directory named by its sdist's sha256 (see
    :class:`~pip_accel.caches.CacheKey`), which tells two sdists of one
    version (a ``.tar.gz`` and a ``.zip``) apart.
    """
    if wheel.parent == index.directory:
        return wheel
    wanted = Archive(wheel).name_and_version()
    sdists = [archive.path for archive in index.archives()
              if not archive.is_wheel and archive.name_and_version() == wanted]  # fmt: skip
    if len(sdists) > 1:
        built_from = [path for path in sdists if index.sha256(path) == wheel.parent.name]
        sdists = built_from or sdists
    return sdists[0] if sdists and wanted is not None else wheel


def requested_extras(
    command_line: CommandLine, files: RequirementFiles
) -> dict[NormalizedName, set[str]]:
    """The extras asked for of each project the user named (in arguments and ``-r`` files).

    pip reports them (normalized, sorted) for the distributions the user asked
    for; constraints ask for nothing. Lines that are no requirement on a named
    project (options, paths, URLs) are skipped: what they name pip reports.
    """
    found: dict[NormalizedName, set[str]] = defaultdict(set)
    for text in requirement_texts(command_line, files):
        if not text or text.startswith("-"):
            continue
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        extras = map(canonicalize_name, requirement.extras)
        found[canonicalize_name(requirement.name)].update(extras)
    return dict(found)
