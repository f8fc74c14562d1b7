"""The plan of an install and its parts: what pip's report says, and the wheels it comes to.

pip resolves (``pip install --dry-run --report``) and pip-accel acts on the
result. Each :class:`PlannedDistribution` says what is to be installed and
where its files come from: an archive (a wheel, or an sdist to build), or a
source tree that pip itself installs (editables, local directories, VCS
checkouts, remote direct URLs). A :class:`PlannedWheel` is one distribution
with the wheel that installs it, as a stored plan keeps it
(:mod:`pip_accel.plan.stored`), and an :class:`Outcome` is what the planner
(:mod:`pip_accel.plan.planner`) makes of pip's plan.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version


@dataclass(frozen=True)
class PlannedDistribution:
    """One distribution of pip's installation report."""

    name: NormalizedName
    version: str
    url: str
    requested: bool
    is_direct: bool
    download_info: dict[str, Any] = field(hash=False, compare=False)
    report: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    """pip's whole entry, when pip planned: what a dry run reports of what pip installs."""

    @classmethod
    def from_report(cls, item: dict[str, Any]) -> "PlannedDistribution":
        """Read one entry of the ``install`` list of pip's report."""
        metadata = item["metadata"]
        return cls(
            name=canonicalize_name(metadata["name"]),
            version=metadata["version"],
            url=item["download_info"]["url"],
            requested=bool(item.get("requested", False)),
            is_direct=bool(item.get("is_direct", False)),
            download_info=item["download_info"],
            report=item,
        )

    @property
    def local_path(self) -> Path | None:
        """The local file or directory of a ``file:`` URL, else None."""
        parsed = urlparse(self.url)
        if parsed.scheme != "file":
            return None
        from urllib.request import url2pathname  # here: it imports http and ssl (20 ms)

        return Path(url2pathname(unquote(parsed.path)))

    @property
    def handed_to_pip(self) -> bool:
        """Whether pip installs this itself: anything that is not a local archive."""
        return "archive_info" not in self.download_info or self.local_path is None

    @property
    def is_editable(self) -> bool:
        """Whether this is an editable requirement."""
        return bool(self.download_info.get("dir_info", {}).get("editable"))

    @property
    def pip_requirement(self) -> list[str]:
        """The arguments that make pip install exactly this distribution."""
        if self.is_editable and self.local_path is not None:
            return ["--editable", str(self.local_path)]
        if self.local_path is not None:
            return [str(self.local_path)]
        vcs = self.download_info.get("vcs_info")
        if vcs:
            return [f"{self.name} @ {vcs['vcs']}+{self.url}@{vcs['commit_id']}"]
        return [f"{self.name} @ {self.url}"]

    def __str__(self) -> str:
        """The name and version, for log messages."""
        return f"{self.name} {self.version}"


@dataclass
class Plan:
    """Everything pip would install, in pip's order."""

    distributions: list[PlannedDistribution]

    @classmethod
    def from_report(cls, report: dict[str, Any]) -> "Plan":
        """Read pip's installation report."""
        return cls([PlannedDistribution.from_report(item) for item in report.get("install", [])])

    @property
    def archives(self) -> list[PlannedDistribution]:
        """The distributions pip-accel installs from archives."""
        return [item for item in self.distributions if not item.handed_to_pip]

    @property
    def handed_to_pip(self) -> list[PlannedDistribution]:
        """The distributions pip installs itself, after the rest."""
        return [item for item in self.distributions if item.handed_to_pip]

    @property
    def prereleases(self) -> list[PlannedDistribution]:
        """The distributions whose planned version is a pre-release."""
        return [item for item in self.distributions if Version(item.version).is_prerelease]

    def __bool__(self) -> bool:
        """Whether there is anything to install."""
        return bool(self.distributions)

    def __len__(self) -> int:
        """The number of distributions to install."""
        return len(self.distributions)


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
    sha256: str | None = None
    """The wheel's sha256, when a fleet's plan gave it: its tree is found by it, so the wheel
    itself may be absent (fetched only when it is needed: see :mod:`pip_accel.fleet.fleet`)."""

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
        """Whether the wheel is still there, as it was when the plan was made (or still absent,
        when the plan names it by its sha256 alone)."""
        try:
            status = os.stat(self.wheel)
        except FileNotFoundError:
            return self.absent
        except OSError:
            return False
        return (status.st_size, status.st_mtime_ns) == (self.size, self.mtime_ns)

    @property
    def absent(self) -> bool:
        """Whether the plan names a wheel that was not fetched: by its sha256, with no size."""
        return self.sha256 is not None and self.size == self.mtime_ns == 0


@dataclass
class Outcome:
    """A plan made with pip, and what pip-accel does with it."""

    wheels: list[PlannedWheel]
    """The wheel of each distribution pip-accel installs, in pip's order."""
    handed_to_pip: list[PlannedDistribution]
    """What pip installs itself, after the rest: editables and other source trees."""
    reusable: bool
    """Whether the plan may be stored for later runs."""
