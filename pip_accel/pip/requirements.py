"""The requirement and constraint files named on a command line, followed recursively.

pip-accel reads them only for what pip's report cannot tell it in advance:
whether hash-checking mode is on (``--require-hashes``, or any ``--hash``), and
the index options in them, which pip-accel's own downloads must use too. They
are read once per request into a :class:`RequirementFiles`, which each
question takes (a caller without a request has them read for its question).
"""

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pip_accel.pip.command_line import CommandLine

NESTED = re.compile(r"^\s*(-r|--requirement|-c|--constraint)(\s*=\s*|\s+)(\S+)")
"""A line of a requirements file that names another file."""


EDITABLE_OPTION = re.compile(r"^\s*(-e|--editable)(\s|=|$)")
"""A requirements file line that names an editable project."""

ARCHIVE_NAME = re.compile(r"\.(whl|zip|tgz|tar|tar\.(gz|bz2|xz))$", re.IGNORECASE)
"""A requirement that pip reads as an archive's path when it ends so."""

CHOICE_OPTION = re.compile(
    r"^(--no-binary|--only-binary|--trusted-host)(\s*=\s*|\s+)(\S+)$|^(--prefer-binary|--pre)$"
)
"""A line of a requirements file that changes which archive pip chooses for a requirement."""


HASH_OPTION = re.compile(r"(^|\s)--(hash|require-hashes)\b")
"""An option of a requirements file that turns hash-checking mode on."""


INDEX_OPTION = re.compile(
    r"^(-i|--index-url|--extra-index-url|-f|--find-links)(\s*=\s*|\s+)(\S+)$|^--no-index$"
)
"""A line of a requirements file that says where pip looks for distributions."""


OPTIONS_START = re.compile(r"(?:^|\s+)(?=-)")
"""Where the options of a requirement line begin (pip's rule: at the first option)."""


PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[(?P<extras>[^]]*)\])?"
    r"\s*==\s*(?P<version>[^\s;,*]+)$"
)
"""A requirement on exactly one version, such as ``celery[redis]==5.4.0``, without markers."""


LOCK_NAME = re.compile(r"^pylock\.toml$|^pylock\.[^.]+\.toml$")
"""The file name of a lock file (PEP 751): ``pylock.toml`` or ``pylock.<name>.toml``."""


LOCK_EXTRAS = re.compile(r"^(?P<path>.*?)(?:\[(?P<extras>[^]]*)\])?$")
"""A lock file named with ``-r``, the extras to select after its name (``pylock.toml[dev]``)."""


def lock_source(value: str) -> tuple[str, frozenset[str]] | None:
    """The path (or URL) and extras of a ``-r`` value that names a lock file, else None.

    pip 26.1 and newer read such a file as a lock file, by its name alone.
    """
    match = LOCK_EXTRAS.match(value)
    assert match is not None  # the pattern matches every string
    path, extras = match["path"], match["extras"] or ""
    if not LOCK_NAME.match(path.rstrip("/").rsplit("/", 1)[-1]):
        return None
    return path, frozenset(extra.strip() for extra in extras.split(",") if extra.strip())


def requirement_files(command_line: CommandLine) -> list[Path]:
    """Every local requirements or constraints file, nested ones included, once each."""
    return list(_read_files(command_line))


def _read_files(command_line: CommandLine) -> dict[Path, tuple[bytes, bool]]:
    """The contents of every local requirements or constraints file, by its path, and whether
    it is a constraints file."""
    seen: dict[Path, tuple[bytes, bool]] = {}
    for dest in ("requirements", "constraints"):
        for group in command_line.groups:
            if group.dest == dest:
                _collect(Path(group.tokens[-1]), dest == "constraints", seen)
    return seen


def _collect(path: Path, constraints: bool, seen: dict[Path, tuple[bytes, bool]]) -> None:
    """Add ``path`` and the files it names (URLs are left to pip).

    As pip reads them, a file named by ``-c`` is a constraints file wherever it
    is named, and one named by ``-r`` a requirements file, also inside a
    constraints file. A file named both ways counts as a requirements file.
    """
    lock = lock_source(str(path))
    path = Path(lock[0]) if lock else path  # a lock file counts without the extras it selects
    if "://" in str(path) or not path.is_file():
        return
    path = Path(os.path.normpath(path.absolute()))  # "a/../b" and "b" are one file
    if path in seen:
        data, known = seen[path]
        seen[path] = (data, known and constraints)
        return
    data = path.read_bytes()
    seen[path] = (data, constraints)
    if lock:
        return
    for line in _logical(_text(data)):
        match = NESTED.match(line)
        if match:
            _collect(path.parent / match.group(3), match.group(1) in ("-c", "--constraint"), seen)


def _text(data: bytes) -> str:
    """A file's contents as :meth:`Path.read_text` gives them (UTF-8, newlines translated)."""
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def logical_lines(path: Path) -> Iterator[str]:
    """The lines of a requirements file, continuations joined, comments removed."""
    yield from _logical(path.read_text(encoding="utf-8", errors="replace"))


def _logical(text: str) -> Iterator[str]:
    """The logical lines of a requirements file's ``text``."""
    for line in text.replace("\\\n", " ").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            yield line


def split_options(line: str) -> tuple[str, str]:
    """A requirements file line as its requirement and the options that follow it."""
    requirement, options = [*OPTIONS_START.split(line, maxsplit=1), ""][:2]
    return requirement.strip(), options


@dataclass(frozen=True)
class RequirementFile:
    """One requirements or constraints file, read once: its contents and logical lines."""

    path: Path
    """The file, by its absolute path."""
    sha256: str
    """The sha256 of its contents (a stored plan's key counts the file by it)."""
    text: str
    """Its contents."""
    lines: tuple[str, ...]
    """Its logical lines (:func:`logical_lines`)."""
    constraints: bool
    """Whether it is a constraints file: named by ``-c``, on the command line or in a file
    (its lines ask for nothing to be installed)."""


@dataclass(frozen=True)
class RequirementFiles:
    """What the local requirement files of a command line say, read once for every question
    (:attr:`pip_accel.request.InstallRequest.requirements`): each file, nested ones included,
    once, in the order :func:`requirement_files` gives."""

    files: tuple[RequirementFile, ...] = ()

    @classmethod
    def of(cls, command_line: CommandLine) -> "RequirementFiles":
        """Read the requirement files of ``command_line``, each once."""
        files = []
        for path, (data, constraints) in _read_files(command_line).items():
            text = _text(data)
            files.append(RequirementFile(
                path, hashlib.sha256(data).hexdigest(), text, tuple(_logical(text)), constraints
            ))  # fmt: skip
        return cls(tuple(files))

    @property
    def paths(self) -> list[Path]:
        """The files, in order."""
        return [file.path for file in self.files]

    def lines(self) -> Iterator[tuple[Path, str]]:
        """Every logical line of every file, with the file's path."""
        for file in self.files:
            for line in file.lines:
                yield file.path, line


def exact_requirements(
    command_line: CommandLine, files: RequirementFiles
) -> list[tuple[str, str, list[str]]] | None:
    """Every requirement as ``(name, version, extras)``, when all are pins and nothing else.

    None when a requirement is not ``name[extras]==version`` (a range, a
    marker, a URL, a path), a line has options of its own, or a file holds
    anything but pins, nested requirement files, and index and binary options.
    """
    texts = list(command_line.arguments)
    for _, line in files.lines():
        nested = NESTED.match(line)
        if nested and nested.group(1) in ("-c", "--constraint"):
            return None
        if nested or CHOICE_OPTION.match(line) or INDEX_OPTION.match(line):
            continue
        requirement, options = split_options(line)
        if options or not requirement:
            return None
        texts.append(requirement)
    found = [PIN.match(text.strip()) for text in texts]
    if not all(found):
        return None
    return [
        (
            match["name"],
            match["version"],
            [extra.strip() for extra in (match["extras"] or "").split(",") if extra.strip()],
        )
        for match in found
        if match
    ]


def pins(command_line: CommandLine, files: RequirementFiles) -> list[tuple[str, str]]:
    """The requirements on exactly one version: arguments and lines of requirement files.

    Each is ``(canonical name, version)``. Constraints do not count: they
    ask for nothing to be installed.
    """
    found = [PIN.match(text.strip()) for text in requirement_texts(command_line, files)]
    return [(canonicalize_name(match["name"]), match["version"]) for match in found if match]


def requirement_texts(command_line: CommandLine, files: RequirementFiles) -> list[str]:
    """The requirements as written: arguments and lines of requirement files (their options
    and comments off; constraints files left out, they ask for nothing to be installed)."""
    texts = list(command_line.arguments)
    for file in files.files:
        if not file.constraints:
            texts += [split_options(line)[0] for line in file.lines]
    return texts


def names_remote_files(command_line: CommandLine, files: RequirementFiles) -> bool:
    """Whether a requirements or constraints file is a URL, on the command line or nested.

    pip-accel cannot tell whether such a file changed without fetching it.
    """
    named = [
        group.tokens[-1]
        for group in command_line.groups
        if group.dest in ("requirements", "constraints")
    ]
    lines = (line for _, line in files.lines())
    named += [match.group(3) for match in map(NESTED.match, lines) if match]
    return any("://" in name for name in named)


def names_source_trees(command_line: CommandLine) -> bool:
    """Whether an argument or ``-e`` is a path or URL rather than a project's name.

    pip plans what such a requirement is by reading it, so it is part of the
    plan (and the plan is not stored), except with ``--only-deps``, where
    only its dependencies are.
    """
    if command_line.options.editables:
        return True
    for text in command_line.arguments:
        try:
            if Requirement(text).url is None:
                continue
        except InvalidRequirement:
            pass
        return True
    return False


def names_projects_only(command_line: CommandLine, files: RequirementFiles) -> bool:
    """Whether every requirement names a project by its name: no path, URL or editable, on
    the command line or in a requirements file (pip builds those from their source)."""
    if names_source_trees(command_line):
        return False
    if any(EDITABLE_OPTION.match(line) for _, line in files.lines()):
        return False
    for text in requirement_texts(command_line, files):
        if ARCHIVE_NAME.search(text):  # a file name pip reads as the path of an archive
            return False
        try:
            if text and Requirement(text).url is not None:
                return False
        except InvalidRequirement:
            return False
    return True


def uses_hashes(command_line: CommandLine, files: RequirementFiles) -> bool:
    """Whether pip checks hashes for this command line: ``--require-hashes``, or any ``--hash``.

    ``--no-require-hashes`` keeps a ``--hash`` from requiring hashes of every
    requirement, but pip still checks the hashes that are given, so pip-accel
    plans as in hash-checking mode then too (pip sees the archives, never a
    wheel built from one).
    """
    if command_line.given("require_hashes"):
        return True
    return any(HASH_OPTION.search(line) for _, line in files.lines())


def index_options(files: RequirementFiles, find_links_only: bool = False) -> list[str]:
    """The index options inside the requirement files, as command-line tokens.

    pip obeys them for the requirements of the files, and so must every other
    download for them (the build requirements of their sdists). pip also finds
    archives through their ``--find-links`` while pip-accel plans offline, so
    builds get those (``find_links_only``). A relative ``--find-links`` path is
    taken from the file's directory when it exists there, as pip does.
    """
    tokens: list[str] = []
    for path, line in files.lines():
        match = INDEX_OPTION.match(line)
        if match is None:
            continue
        option, _, value = match.groups()
        find_links = option in ("-f", "--find-links")
        if find_links_only and not find_links:
            continue
        if option is None:
            tokens.append(line)
        elif find_links and (path.parent / value).exists():
            tokens += [option, str(path.parent / value)]
        else:
            tokens += [option, value]
    return tokens
