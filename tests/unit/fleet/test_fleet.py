"""The fleet's shared plans and trees: checked before they are trusted, placed where they belong.

Fast unit tests of :mod:`pip_accel.fleet.fleet` on real files in a temporary directory. The shared
cache is a stand-in (objects in a dict, stores recorded in order), the target a stand-in with
this interpreter's cache tag, the configuration real. Two small wheels are written once by
``support.fixtures.make_wheel`` and unpacked and compiled once by
:class:`pip_accel.install.trees.TreeStore` (the only subprocess); their tree archives are made
by :func:`pip_accel.fleet.tree_archive.pack_tree`.
No S3, no pip, no index.
"""

import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import stat
import sys
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

import pytest
import zstandard

from pip_accel import __version__
from pip_accel.caches import CacheKey
from pip_accel.caches.binary_cache import BinaryCache
from pip_accel.caches.local import LocalCacheBackend, checksum_file
from pip_accel.config import Config
from pip_accel.datadir.records import Record
from pip_accel.environment import TargetEnvironment
from pip_accel.fleet.fleet import Fleet
from pip_accel.fleet.shared_plan import BINARY, FORMAT, SOURCE, SharedWheel, parse_shared_plan
from pip_accel.fleet.tree_archive import (
    GZIP_MAGIC,
    ZSTD_MAGIC,
    TreeArchiveError,
    UnsafeTreeArchiveError,
    check_member,
    pack_tree,
    unpack_stream,
    unpack_tree,
)
from pip_accel.install.manifest import FORMAT as TREE_FORMAT
from pip_accel.install.manifest import MANIFEST, TreeFile, UnpackedTree
from pip_accel.install.trees import TreeStore
from pip_accel.plan.plan import PlannedWheel

from support.fixtures import make_wheel
from support.plans import lacking, wheels_digest

TAG = sys.implementation.cache_tag
"""The cache tag of this interpreter, which compiles the trees' bytecode."""

KEY = "c" * 64
"""The shared key of the plans of these tests (any string does)."""

NAMESPACE = "cp311-manylinux"
SDIST_SHA256 = "b" * 64
"""The platform namespace and source sha256 of the binary cache keys of these tests."""


T = TypeVar("T")
"""What the reader of a streamed object makes of it."""


class FakeTarget:
    """The target environment as the fleet and the tree store see it: this interpreter."""

    cache_tag = TAG
    executable = sys.executable


def target() -> TargetEnvironment:
    """The stand-in target, typed as the real one."""
    return cast(TargetEnvironment, FakeTarget())


def sha256(data: bytes) -> str:
    """The sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Built:
    """A wheel written once, and its compiled tree."""

    name: str
    """The wheel's file name."""
    data: bytes
    sha256: str
    tree: Path
    """The compiled tree (read-only files); not to be changed by tests."""
    archive: bytes
    """The tree packed by pack_tree."""

    @property
    def project(self) -> str:
        """The project's name."""
        return self.name.split("-")[0]

    @property
    def tree_object(self) -> str:
        """The object name of the tree."""
        return f"trees/{TAG}/{self.sha256}-{TREE_FORMAT}.tar.gz"

    def source_entry(self, **changes: Any) -> SharedWheel:
        """The entry of a shared plan that names this wheel as a download."""
        entry = SharedWheel(self.project, "1.0", True, None, self.name, SOURCE, None, self.sha256)
        return replace(entry, **changes)

    def binary_entry(self, **changes: Any) -> SharedWheel:
        """The entry of a shared plan that names this wheel as built from an sdist."""
        key = [NAMESPACE, self.project, "1.0", SDIST_SHA256]
        entry = SharedWheel(self.project, "1.0", False, None, self.name, BINARY, key, self.sha256)
        return replace(entry, **changes)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """``fleetpkg`` and ``otherpkg``, each a wheel with modules and a script, and its tree."""
    directory = tmp_path_factory.mktemp("built")
    wheels = []
    for name in ("fleetpkg", "otherpkg"):
        files = {
            f"{name}/__init__.py": "VALUE = 1\n",
            f"{name}/sub/mod.py": "def main() -> None:\n    print('hello')\n",
            f"{name}-1.0.data/scripts/{name}-tool": "#!python\nprint('tool')\n",
        }
        wheels.append(make_wheel(directory / "wheels", name, "1.0", files))
    trees = TreeStore(directory / "trees", target()).trees_for(wheels)
    found = {}
    for wheel in wheels:
        archive = directory / f"{wheel.name}.tar.gz"
        pack_tree(trees[wheel].directory, archive)
        data = wheel.read_bytes()
        found[wheel.name.split("-")[0]] = Built(
            wheel.name, data, sha256(data), trees[wheel].directory, archive.read_bytes()
        )
    return found


class SharedCache:
    """The binary cache as the fleet sees it: named objects in a dict, every call recorded.

    ``fetch`` gives None for contents of another sha256, as BinaryCache does when its
    backend raises CorruptObjectError.
    """

    def __init__(self, objects: dict[str, bytes] | None = None, writable: bool = True) -> None:
        """Serve ``objects``; take new ones when ``writable``."""
        self.objects = dict(objects or {})
        self.shared = True
        self.shares_writes = writable
        self.connected = 0
        self.fetched: list[str] = []
        self.stored: list[str] = []
        """The names stored, in the order the stores ended."""
        self.wheel_delay = 0.0
        """Seconds that storing a wheel takes."""
        self.lost_at: str | None = None
        """The object whose fetch loses the backend, as BinaryCache loses a failing one."""
        self.lock = threading.Lock()
        self.refused: set[str] = set()
        """The objects found of another sha256, as BinaryCache notes those it warned of."""

    def connect(self) -> None:
        """Count the call."""
        self.connected += 1

    def fetch(self, name: str, target: Path, sha256: str | None = None) -> Path | None:
        """Write the object ``name`` to ``target``; None when absent or of another sha256."""
        with self.lock:
            self.fetched.append(name)
            data = self.objects.get(name)
            if name == self.lost_at:
                self.shared = self.shares_writes = False
            if not self.shared:
                return None
        if data is not None and sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            self.refused.add(name)
            return None
        if data is None:
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

    def stream(
        self, name: str, consume: Callable[[BinaryIO], T], sha256: str | None = None
    ) -> T | None:
        """Give the object ``name`` to ``consume`` from memory, as BinaryCache does: None when
        absent or of another sha256 (checked after ``consume``, whose result is dropped)."""
        with self.lock:
            self.fetched.append(name)
            data = self.objects.get(name)
            if name == self.lost_at:
                self.shared = self.shares_writes = False
            if not self.shared or data is None:
                return None
        result = consume(io.BytesIO(data))
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            self.refused.add(name)
            return None
        return result

    def store(self, path: Path, name: str, replace: bool = False) -> bool:
        """Keep the contents of ``path`` as the object ``name``, unless it has one (and not
        ``replace``), as the S3 backend does."""
        if name.endswith(".whl"):
            time.sleep(self.wheel_delay)
        data = path.read_bytes()
        with self.lock:
            if name in self.objects and not replace:
                return False
            self.stored.append(name)
            self.objects[name] = data
        return True


FleetFactory = Callable[[Path, SharedCache], Fleet]


@pytest.fixture
def wheel(built: dict[str, Built]) -> Built:
    """``fleetpkg``, the wheel that most tests share."""
    return built["fleetpkg"]


@pytest.fixture
def make_fleet() -> Iterator[FleetFactory]:
    """A factory of fleets whose data directory is the path given; their pools end at teardown."""
    fleets: list[Fleet] = []

    def make(data: Path, cache: SharedCache) -> Fleet:
        config = Config(overrides={"data-directory": str(data)}, environ={})
        fleets.append(Fleet(cast(BinaryCache, cache), config, target()))
        return fleets[-1]

    yield make
    for fleet in fleets:
        fleet.pool.shutdown(cancel_futures=True)


def plan_document(entries: list[SharedWheel], key: str = KEY, **changes: Any) -> dict[str, Any]:
    """A shared plan of ``entries`` as JSON reads it, with the checksum the design names."""
    return document_of(*(asdict(entry) for entry in entries), key=key, **changes)


def publish(cache: SharedCache, entries: list[SharedWheel], key: str = KEY) -> None:
    """Put a shared plan of ``entries`` into the stand-in cache."""
    cache.objects[f"plans/{key}.json"] = json.dumps(plan_document(entries, key)).encode()


def published(wheel: Built) -> SharedCache:
    """A stand-in cache with ``wheel``'s binary entry, its tree, and the plan of them alone."""
    entry = wheel.binary_entry()
    cache = SharedCache({entry.object: wheel.data, wheel.tree_object: wheel.archive})
    publish(cache, [entry])
    return cache


def messages(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[str]:
    """The messages of pip_accel.fleet.fleet at ``level``."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "pip_accel.fleet.fleet" and record.levelno == level
    ]


def tree_contents(directory: Path) -> dict[str, bytes]:
    """Every file of a tree but its manifest, by path relative to the tree."""
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


# parse_shared_plan ---------------------------------------------------------------------------


def test_a_sound_shared_plan_is_accepted(built: dict[str, Built]) -> None:
    """Both kinds of entries come back as they were stored, direct URL included."""
    direct_url = {"url": "https://example.org/otherpkg-1.0.tar.gz", "archive_info": {}}
    entries = [
        built["fleetpkg"].source_entry(),
        built["otherpkg"].binary_entry(direct_url=direct_url),
    ]
    assert parse_shared_plan(plan_document(entries), KEY) == entries
    assert parse_shared_plan(plan_document([]), KEY) == []


def entry(**changes: Any) -> dict[str, Any]:
    """A sound binary entry as JSON reads it, with some fields changed."""
    item: dict[str, Any] = {
        "name": "fleetpkg",
        "version": "1.0",
        "requested": True,
        "direct_url": None,
        "file": "fleetpkg-1.0-py3-none-any.whl",
        "kind": BINARY,
        "key": [NAMESPACE, "fleetpkg", "1.0", SDIST_SHA256],
        "sha256": "d" * 64,
    }
    item.update(changes)
    return item


def document_of(*items: Any, **changes: Any) -> dict[str, Any]:
    """A shared plan of raw entries with the right checksum, some fields changed."""
    wheels = list(items)
    document = {
        "format": FORMAT,
        "key": KEY,
        "pip_accel": __version__,
        "wheels": wheels,
        "sha256": wheels_digest(wheels),
    }
    document.update(changes)
    return document


def without(field: str) -> dict[str, Any]:
    """A sound entry that lacks one field."""
    return lacking(entry(), field)


SHARED_DAMAGES: dict[str, tuple[Any, str]] = {
    "a list": ([entry()], "it is not a shared plan"),
    "null": (None, "it is not a shared plan"),
    "a string": ("plan", "it is not a shared plan"),
    "an extra field": ({**document_of(), "extra": 1}, "it is not a shared plan"),
    "a field missing": (
        {k: v for k, v in document_of().items() if k != "sha256"},
        "it is not a shared plan",
    ),
    "wheels not a list": (document_of(wheels={}), "its wheels are not a list"),
    "another format": (document_of(format=FORMAT + 1), "of another format"),
    "another pip-accel": (document_of(pip_accel="0.9"), "stored by pip-accel '0.9'"),
    "another key": (document_of(key="e" * 64), "its key or checksum does not match"),
    "a checksum mismatch": (document_of(entry(), sha256="0" * 64), "key or checksum"),
    "an entry dropped": (
        document_of(entry(), sha256=document_of()["sha256"]),
        "key or checksum",
    ),
    "an entry not an object": (document_of("fleetpkg"), "an entry of it has other fields"),
    "an entry with an extra field": (document_of(entry(size=1)), "has other fields"),
    "an entry missing a field": (document_of(without("kind")), "has other fields"),
    "a path in file": (document_of(entry(file="../../x/fleetpkg-1.0-py3-none-any.whl")), ""),
    "a directory in file": (document_of(entry(file="sub/fleetpkg-1.0-py3-none-any.whl")), ""),
    "a hidden file": (document_of(entry(file=".fleetpkg-1.0-py3-none-any.whl")), ""),
    "not a wheel": (document_of(entry(file="fleetpkg-1.0.tar.gz")), ""),
    "an empty file": (document_of(entry(file="")), ""),
    "a path in name": (document_of(entry(name="../fleetpkg")), ""),
    "name ..": (document_of(entry(name="..")), ""),
    "name not a string": (document_of(entry(name=["fleetpkg"])), ""),
    "empty version": (document_of(entry(version="")), ""),
    ".. in a key part": (document_of(entry(key=[NAMESPACE, "..", "1.0", SDIST_SHA256])), ""),
    ". as a key part": (document_of(entry(key=[NAMESPACE, "fleetpkg", ".", SDIST_SHA256])), ""),
    "a path in a key part": (document_of(entry(key=["a/b", "fleetpkg", "1.0", "x"])), ""),
    "an empty key part": (document_of(entry(key=[NAMESPACE, "fleetpkg", "", "x"])), ""),
    "a key of three parts": (document_of(entry(key=[NAMESPACE, "fleetpkg", "1.0"])), ""),
    "a key part not a string": (document_of(entry(key=[NAMESPACE, "fleetpkg", 1.0, "x"])), ""),
    "a binary without key": (document_of(entry(key=None)), ""),
    "requested a number": (document_of(entry(requested=1)), ""),
    "requested a string": (document_of(entry(requested="true")), ""),
    "direct_url a string": (document_of(entry(direct_url="https://example.org/x")), ""),
    "a short sha256": (document_of(entry(sha256="d" * 63)), ""),
    "sha256 not a string": (document_of(entry(sha256=None)), ""),
    "an unknown kind": (document_of(entry(kind="sdist")), ""),
}
"""Damaged shared plans (parsed JSON), each with a part of the reason; "" means a malformed
entry, whose reason names the entry's file."""


@pytest.mark.parametrize(("data", "reason"), SHARED_DAMAGES.values(), ids=SHARED_DAMAGES.keys())
def test_a_damaged_shared_plan_is_refused(data: Any, reason: str) -> None:
    """Each damage raises ValueError with a reason; a malformed entry is named by its file."""
    with pytest.raises(ValueError) as caught:
        parse_shared_plan(data, KEY)
    if reason:
        assert reason in str(caught.value)
    else:
        assert str(caught.value).startswith("its entry of ")
        assert str(caught.value).endswith(" is malformed")


def test_a_source_entry_may_have_any_key() -> None:
    """The key of a downloaded wheel is not used (its object is under its project)."""
    (parsed,) = parse_shared_plan(document_of(entry(kind=SOURCE, key=None)), KEY)
    assert parsed.kind == SOURCE
    assert parsed.object == "sources/fleetpkg/fleetpkg-1.0-py3-none-any.whl"


@pytest.mark.parametrize("digest", ["../" * 21 + "x", "D" * 64, "z" * 64])
def test_a_sha256_that_is_not_hexadecimal_is_refused(digest: str) -> None:
    """A sha256 is 64 lowercase hexadecimal digits (hash_file's form), nothing else."""
    assert len(digest) == 64
    with pytest.raises(ValueError, match="is malformed"):
        parse_shared_plan(document_of(entry(sha256=digest)), KEY)


def test_the_object_of_each_kind_of_wheel() -> None:
    """A download lives under its project; a built wheel under its binary cache key."""
    source = SharedWheel("fleetpkg", "1.0", True, None, "f-1.0-py3-none-any.whl", SOURCE, None, "")
    assert source.object == "sources/fleetpkg/f-1.0-py3-none-any.whl"
    binary = replace(source, kind=BINARY, key=[NAMESPACE, "fleetpkg", "1.0", SDIST_SHA256])
    assert binary.object == f"{NAMESPACE}/fleetpkg/1.0/{SDIST_SHA256}/f-1.0-py3-none-any.whl"


# pack_tree and unpack_tree --------------------------------------------------------------------


def tar_names(archive: Path) -> list[str]:
    """The member names of a tree archive, zstandard or gzip."""
    data = archive.read_bytes()
    if data.startswith(ZSTD_MAGIC):
        data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
    else:
        data = gzip.decompress(data)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getnames()


@pytest.mark.parametrize("zstd", [True, False], ids=["zstd", "gzip"])
def test_pack_and_unpack_keep_names_modes_and_times(tmp_path: Path, zstd: bool) -> None:
    """Names relative to the tree (files only), the executable bit, the time to the second;
    in zstandard, and in gzip (where zstandard is not installed, and older writers' trees)."""
    source = tmp_path / "source"
    files = {"manifest.json": b"{}", "purelib/pkg/__init__.py": b"A = 1\n", "scripts/tool": b"#!"}
    for number, (name, data) in enumerate(files.items()):
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o555 if name.startswith("scripts") else 0o444)
        os.utime(path, (1_600_000_000.5 + number, 1_600_000_000.75 + number))
    archive = tmp_path / "tree.tar"
    pack_tree(source, archive, zstd=zstd)
    assert archive.read_bytes().startswith(ZSTD_MAGIC if zstd else GZIP_MAGIC)
    assert tar_names(archive) == ["manifest.json", "purelib/pkg/__init__.py", "scripts/tool"]

    with archive.open("rb") as stream:
        unpack_stream(OneByteAtATime(stream), tmp_path / "tree")  # a download's short reads

    assert tree_contents(tmp_path / "tree") == tree_contents(source)
    assert (tmp_path / "tree" / MANIFEST).read_bytes() == b"{}"
    for name in files:
        before, after = (source / name).stat(), (tmp_path / "tree" / name).stat()
        assert int(after.st_mtime) == int(before.st_mtime), name
        expected = 0o755 if name.startswith("scripts") else 0o644
        assert stat.S_IMODE(after.st_mode) == expected, name


class OneByteAtATime:
    """A stream that gives one byte per read, as a slow download may."""

    def __init__(self, stream: BinaryIO) -> None:
        """Read ``stream``."""
        self.stream = stream

    def read(self, size: int = -1, /) -> bytes:
        """One byte (or none at the end)."""
        return self.stream.read(1)


def test_pack_tree_writes_zstandard_where_it_is_installed(tmp_path: Path) -> None:
    """The writer decides: zstandard by default (the s3 extra brings it)."""
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / MANIFEST).write_text("{}")
    pack_tree(tmp_path / "source", tmp_path / "tree.tar")
    assert (tmp_path / "tree.tar").read_bytes().startswith(ZSTD_MAGIC)


@pytest.mark.parametrize("zstd", [True, False], ids=["zstd", "gzip"])
@pytest.mark.parametrize("damage", ["truncated", "garbled", "neither"])
def test_an_unreadable_archive_is_a_tree_archive_error(
    tmp_path: Path, zstd: bool, damage: str
) -> None:
    """Cut short, garbled or of no known compression: TreeArchiveError (the fleet's warning),
    not a traceback; what was written stays in the caller's private directory."""
    source = tmp_path / "source"
    (source / "purelib").mkdir(parents=True)
    (source / MANIFEST).write_text("{}")
    (source / "purelib" / "big.py").write_bytes(os.urandom(200_000).hex().encode())
    pack_tree(source, tmp_path / "tree.tar", zstd=zstd)
    data = (tmp_path / "tree.tar").read_bytes()
    damaged = {
        "truncated": data[: len(data) // 2],
        "garbled": data[:20] + bytes(255 - byte for byte in data[20:]),
        "neither": b"PK\x03\x04" + data,
    }[damage]
    with pytest.raises(TreeArchiveError):
        unpack_stream(io.BytesIO(damaged), tmp_path / "private")


def member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    """A member of a tree archive, of one byte when it is a file."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = 1 if kind == tarfile.REGTYPE else 0
    info.mtime = 1_600_000_000
    return info


UNSAFE_MEMBERS = {
    "parent": member("../x"),
    "absolute": member("/abs"),
    "parent inside": member("purelib/../../x"),
    "backslashes": member("purelib\\..\\..\\x"),
    "symlink": member("purelib/link", tarfile.SYMTYPE, "/etc/passwd"),
    "relative symlink": member("purelib/link", tarfile.SYMTYPE, "ok.py"),
    "hard link": member("purelib/hard", tarfile.LNKTYPE, "purelib/ok.py"),
    "character device": member("purelib/null", tarfile.CHRTYPE),
    "fifo": member("purelib/fifo", tarfile.FIFOTYPE),
}
"""Members that would land outside a tree, or are not plain files or directories."""


def archive_with(path: Path, unsafe: tarfile.TarInfo) -> Path:
    """A tree archive of a safe directory and file, then ``unsafe``."""
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        directory = tarfile.TarInfo("purelib")
        directory.type = tarfile.DIRTYPE
        tar.addfile(directory)
        tar.addfile(member("purelib/ok.py"), io.BytesIO(b"x"))
        tar.addfile(unsafe, io.BytesIO(b"x") if unsafe.isfile() else None)
    return path


@pytest.mark.parametrize("unsafe", UNSAFE_MEMBERS.values(), ids=UNSAFE_MEMBERS.keys())
def test_an_unsafe_archive_is_refused_before_the_member_is_written(
    tmp_path: Path, unsafe: tarfile.TarInfo
) -> None:
    """UnsafeTreeArchiveError; nothing is written outside the tree, nothing of the member in it.

    (What came before the member may be in the tree: the caller unpacks into a private
    directory, which it removes.)
    """
    archive = archive_with(tmp_path / "tree.tar.gz", unsafe)
    tree = tmp_path / "private" / "tree"
    tree.parent.mkdir()
    with pytest.raises(UnsafeTreeArchiveError):
        unpack_tree(archive, tree)
    assert sorted(os.listdir(tmp_path)) == ["private", "tree.tar.gz"]
    assert os.listdir(tmp_path / "private") in ([], ["tree"])
    written = (
        sorted(str(path.relative_to(tree)) for path in tree.rglob("*")) if tree.exists() else []
    )
    assert set(written) <= {"purelib", "purelib/ok.py"}
    assert not [path for path in tree.rglob("*") if path.is_symlink() or path.is_fifo()]
    with tarfile.open(archive) as tar:  # gzip, as older writers made them
        members = tar.getmembers()
    check_member(members[0])
    check_member(members[1])
    with pytest.raises(UnsafeTreeArchiveError):
        check_member(members[2])


def test_unpack_tree_refuses_an_existing_directory(tmp_path: Path) -> None:
    """A tree is unpacked into a new directory only (never mixed with another)."""
    source = tmp_path / "source"
    source.mkdir()
    (source / "a.py").write_text("A = 1\n")
    (source / "manifest.json").write_text("{}")
    pack_tree(source, tmp_path / "tree.tar.gz")
    with pytest.raises(FileExistsError):
        unpack_tree(tmp_path / "tree.tar.gz", source)


def test_pack_tree_refuses_a_tree_that_is_gone(tmp_path: Path) -> None:
    """A tree renamed away (replaced as damaged) while it is uploaded is an error, not no files."""
    with pytest.raises(OSError):
        pack_tree(tmp_path / "gone", tmp_path / "tree.tar.gz")


# Fleet.plan ---------------------------------------------------------------------------------


def test_no_shared_plan_is_none(
    tmp_path: Path, make_fleet: FleetFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """No plan object: None, no warning, only the plan asked for; nothing is left in tmp."""
    cache = SharedCache()
    fleet = make_fleet(tmp_path / "data", cache)
    with caplog.at_level(logging.DEBUG, logger="pip_accel.fleet.fleet"):
        assert fleet.plan(KEY) is None
    assert cache.connected == 1
    assert cache.fetched == [f"plans/{KEY}.json"]
    assert messages(caplog) == []
    assert messages(caplog, logging.DEBUG) == [
        "The fleet has no plan of these requirements and target."
    ]
    assert os.listdir(tmp_path / "data" / "tmp") == []


def test_a_shared_download_goes_into_the_local_index(
    tmp_path: Path, make_fleet: FleetFactory, wheel: Built, caplog: pytest.LogCaptureFixture
) -> None:
    """The wheel lands in sources/, recorded in sources/.sha256; the planned wheel describes it."""
    cache = SharedCache({f"sources/fleetpkg/{wheel.name}": wheel.data})
    publish(cache, [wheel.source_entry()])
    fleet = make_fleet(tmp_path / "data", cache)
    with caplog.at_level(logging.INFO, logger="pip_accel.fleet.fleet"):
        planned = fleet.plan(KEY)
    path = tmp_path / "data" / "sources" / wheel.name
    status = path.stat()
    assert planned == [
        PlannedWheel(
            "fleetpkg", "1.0", True, str(path), status.st_size, status.st_mtime_ns, None,
            wheel.sha256,
        )
    ]  # fmt: skip
    assert path.read_bytes() == wheel.data
    assert (tmp_path / "data" / "sources" / ".sha256" / wheel.name).is_file()
    assert Record.read(path) == Record.of(path, wheel.sha256)
    assert messages(caplog, logging.INFO) == [
        "Using the fleet's plan of the same requirements and target (1 wheel)."
    ]
    assert messages(caplog) == [
        f"The shared cache has no tree of 1 wheel ({wheel.name}); unpacking it here."
    ], "one warning, and the wheel is the fallback"
    assert cache.fetched[1:] == [wheel.tree_object, f"sources/fleetpkg/{wheel.name}"]
    assert os.listdir(tmp_path / "data" / "trees" / TAG) == [], "no tree, nothing left"


def test_a_shared_build_goes_into_the_binary_cache_with_its_tree(
    tmp_path: Path, make_fleet: FleetFactory, wheel: Built
) -> None:
    """The wheel (asked for) lands under its key with its checksum; its tree is placed, sealed
    and found."""
    cache = published(wheel)
    fleet = make_fleet(tmp_path / "data", cache)

    planned = fleet.plan(KEY, wheels=True)

    key = CacheKey(NAMESPACE, "fleetpkg", "1.0", SDIST_SHA256)
    path = tmp_path / "data" / "binaries" / str(key.path) / wheel.name
    assert planned is not None and [item.wheel for item in planned] == [str(path)]
    assert planned[0].unchanged and not planned[0].requested
    assert checksum_file(path).read_text() == wheel.sha256
    assert LocalCacheBackend(fleet.config).get(key) == path, "the local cache takes it"
    store = TreeStore(fleet.config.tree_cache, target())
    tree = UnpackedTree.load(store.location(path))
    assert tree is not None
    assert tree_contents(tree.directory) == tree_contents(wheel.tree)
    original = UnpackedTree.load(wheel.tree)
    assert original is not None
    for item in tree.files + tree.scripts + tree.bytecode:
        status = tree.source(item).stat()
        assert not status.st_mode & 0o222, f"{item.path} is sealed"
        assert item.stamp == (status.st_size, status.st_mtime_ns), f"{item.path} is stamped"
        before = original.source(item).stat().st_mtime
        assert int(status.st_mtime) == int(before), f"{item.path}: its bytecode stays valid"
    assert store.trees_for([path])[path].directory == store.location(path)
    assert store.unpacked == [], "nothing to unpack here"
    assert sorted(os.listdir(store.directory)) == [store.location(path).name]


@pytest.mark.parametrize("kind", [SOURCE, BINARY])
def test_an_empty_disk_fetches_the_plan_and_the_trees_and_no_wheel(
    tmp_path: Path,
    make_fleet: FleetFactory,
    wheel: Built,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    """The tree is enough: the wheel is not fetched nor recorded, the plan names it by its
    sha256 with no size, and its tree is found by that sha256."""
    entry = wheel.source_entry() if kind == SOURCE else wheel.binary_entry()
    cache = SharedCache({entry.object: wheel.data, wheel.tree_object: wheel.archive})
    publish(cache, [entry])
    fleet = make_fleet(tmp_path / "data", cache)
    with caplog.at_level(logging.INFO, logger="pip_accel.fleet.fleet"):
        planned = fleet.plan(KEY)
    assert cache.fetched == [f"plans/{KEY}.json", wheel.tree_object]
    assert planned is not None
    (item,) = planned
    path = Path(item.wheel)
    assert item.absent and item.unchanged and item.sha256 == wheel.sha256
    assert (item.size, item.mtime_ns) == (0, 0)
    assert not path.exists() and not checksum_file(path).exists()
    assert Record.read(path) is None
    tree = UnpackedTree.load(fleet.trees.location(path, wheel.sha256))
    assert tree is not None and tree_contents(tree.directory) == tree_contents(wheel.tree)
    assert messages(caplog) == []
    assert messages(caplog, logging.INFO) == [
        "Using the fleet's plan of the same requirements and target"
        " (1 wheel, 1 of them by their trees alone)."
    ]
    assert fleet.bring(item), "fetched when it is needed after all"
    assert path.read_bytes() == wheel.data
    assert cache.fetched[-1] == entry.object


def test_a_damaged_local_wheel_is_fetched_again_even_with_its_tree_in_the_bucket(
    tmp_path: Path, make_fleet: FleetFactory, wheel: Built
) -> None:
    """A file of another sha256 where the wheel belongs: replaced by the bucket's wheel (its
    tree would otherwise be looked for by the damaged file's sha256)."""
    cache = published(wheel)
    fleet = make_fleet(tmp_path / "data", cache)
    entry = wheel.binary_entry()
    path = fleet.config.binary_cache / CacheKey(*(entry.key or [])).path / wheel.name
    path.parent.mkdir(parents=True)
    path.write_bytes(b"damaged")
    planned = fleet.plan(KEY)
    assert planned is not None and not planned[0].absent
    assert path.read_bytes() == wheel.data
    assert cache.fetched[1:] == [entry.object, wheel.tree_object]


def test_a_wheel_that_cannot_be_brought_is_one_warning(
    tmp_path: Path, make_fleet: FleetFactory, wheel: Built, caplog: pytest.LogCaptureFixture
) -> None:
    """bring: a wheel the bucket lost since its plan was used is one warning and False."""
    cache = SharedCache({wheel.tree_object: wheel.archive})
    publish(cache, [wheel.source_entry()])
    fleet = make_fleet(tmp_path / "data", cache)
    item = PlannedWheel(
        "fleetpkg", "1.0", True, str(tmp_path / "data" / "sources" / wheel.name), 0, 0,
        None, wheel.sha256,
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="pip_accel.fleet.fleet"):
        assert not fleet.bring(item)
    assert messages(caplog) == [
        f"The wheel {wheel.name} is missing from the shared cache or corrupt."
    ]
    assert not Path(item.wheel).exists()


def test_trees_missing_from_the_bucket_are_one_warning_and_their_wheels_are_fetched(
    tmp_path: Path,
    make_fleet: FleetFactory,
    built: dict[str, Built],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two wheels without trees in the bucket: one warning naming both; both wheels fetched."""
    entries = [item.source_entry() for item in built.values()]
    cache = SharedCache(
        {entry.object: item.data for entry, item in zip(entries, built.values(), strict=True)}
    )
    publish(cache, entries)
    fleet = make_fleet(tmp_path / "data", cache)
    with caplog.at_level(logging.WARNING, logger="pip_accel.fleet.fleet"):
        planned = fleet.plan(KEY)
    assert planned is not None and not any(item.absent for item in planned)
    assert all(Path(item.wheel).is_file() for item in planned)
    names = ", ".join(sorted(item.name for item in built.values()))
    assert messages(caplog) == [
        f"The shared cache has no tree of 2 wheels ({names}); unpacking them here."
    ]


def test_what_is_here_already_is_not_fetched(
    tmp_path: Path, make_fleet: FleetFactory, wheel: Built
) -> None:
    """A second worker on the same disk fetches only the plan: the wheel and tree are there."""
    cache = published(wheel)
    first = make_fleet(tmp_path / "data", cache).plan(KEY)
    cache.fetched.clear()
    assert make_fleet(tmp_path / "data", cache).plan(KEY) == first
    assert cache.fetched == [f"plans/{KEY}.json"]


@pytest.mark.parametrize("kind", [SOURCE, BINARY])
@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_a_corrupt_or_missing_wheel_means_no_plan(
    tmp_path: Path,
    make_fleet: FleetFactory,
    built: dict[str, Built],
    caplog: pytest.LogCaptureFixture,
    kind: str,
    damage: str,
) -> None:
    """One warning naming the wheel; None; no wheel and no checksum is left in the caches."""
    good, bad = built["otherpkg"], built["fleetpkg"]
    entries = [good.source_entry(), replace(bad.binary_entry(), kind=kind)]
    cache = SharedCache({entries[0].object: good.data})
    if damage == "corrupt":
        cache.objects[entries[1].object] = bad.data + b"tampered"
    publish(cache, entries)
    fleet = make_fleet(tmp_path / "data", cache)
    with caplog.at_level(logging.WARNING, logger="pip_accel.fleet.fleet"):
        assert fleet.plan(KEY) is None
    assert messages(caplog) == [
        f"Not using the fleet's plan: its wheel {bad.name} is missing from the shared cache or"
        " corrupt; planning as usual."
    ]
    names = [path.name for path in (tmp_path / "data").rglob("*") if path.is_file()]
    assert not [name for name in names if bad.name in name]


@pytest.mark.parametrize(
    "contents",
    [b"", b"not json", b"[" * 100_000, b"\xff\xfe", json.dumps(plan_document([], "e" * 64))],
    ids=["empty", "not json", "nested too deeply", "not text", "another key"],
)
def test_a_damaged_shared_plan_is_a_warning(
    tmp_path: Path,
    make_fleet: FleetFactory,
    caplog: pytest.LogCaptureFixture,
    contents: str | bytes,
) -> None:
    """A plan object that cannot be used: None and one warning naming the key."""
    data = contents.encode() if isinstance(contents, str) else contents
    cache = SharedCache({f"plans/{KEY}.json": data})
    fleet = make_fleet(tmp_path / "data", cache)
    with caplog.at_level(logging.WARNING, logger="pip_accel.fleet.fleet"):
        assert fleet.plan(KEY) is None
    (warning,) = messages(caplog)
    assert warning.startswith(f"Not using the fleet's plan {KEY[:12]}: ")


def test_an_unsafe_tree_is_a_warning_and_the_wheel_is_used(
    tmp_path: Path, make_fleet: FleetFactory, wheel: Built, caplog: pytest.LogCaptureFixture
) -> None:
    """A tree with a member outside it: one warning; the plan stands; no tree, nothing left."""
    archive = archive_with(tmp_path / "evil.tar.gz", member("../../escape"))
    cache = SharedCache({wheel.source_entry().object: wheel.data})
    cache.objects[wheel.tree_object] = archive.read_bytes()
    publish(cache, [wheel.source_entry()])
    fleet = make_fleet(tmp_path / "data", cache)
    with caplog.at_level(logging.WARNING, logger="pip_accel.fleet.fleet"):
        planned = fleet.plan(KEY)
    assert planned is not None and len(planned) == 1
    assert messages(caplog) == [
        f"Not using the fleet's tree of {wheel.name}: its member '../../escape' would land"
        " outside the tree."
    ]
    assert os.listdir(tmp_path / "data" / "trees" / TAG) == []
    assert not list(tmp_path.rglob("escape"))
    assert cache.fetched[1:] == [wheel.tree_object, wheel.source_entry().object], "the fallback"


def test_a_tree_without_manifest_is_a_warning(
    tmp_path: Path, make_fleet: FleetFactory, wheel: Built, caplog: pytest.LogCaptureFixture
) -> None:
    """A safe archive that is not a tree: one warning, no tree placed."""
    source = tmp_path / "not-a-tree"
    source.mkdir()
    (source / "a.py").write_text("A = 1\n")
    with tarfile.open(tmp_path / "tree.tar.gz", "w:gz") as tar:  # not by pack_tree, which checks
        tar.add(source / "a.py", arcname="a.py")
    cache = SharedCache({wheel.source_entry().object: wheel.data})
    cache.objects[wheel.tree_object] = (tmp_path / "tree.tar.gz").read_bytes()
    publish(cache, [wheel.source_entry()])
    with caplog.at_level(logging.WARNING, logger="pip_accel.fleet.fleet"):
        assert make_fleet(tmp_path / "data", cache).plan(KEY) is not None
    assert messages(caplog) == [
        f"Not using the fleet's tree of {wheel.name}: it has no readable manifest."
    ]
    assert os.listdir(tmp_path / "data" / "trees" / TAG) == []


def tampered_tree(tmp_path: Path, wheel: Built, change: Callable[[Path], None]) -> bytes:
    """The archive of a copy of ``wheel``'s tree after ``change`` (given the copy)."""
    copy = tmp_path / "tampered"
    shutil.copytree(wheel.tree, copy)
    for path in copy.rglob("*"):
        if path.is_file():
            path.chmod(0o644)
    change(copy)
    pack_tree(copy, tmp_path / "tampered.tar.gz")
    return (tmp_path / "tampered.tar.gz").read_bytes()


def test_a_tree_whose_manifest_names_a_path_outside_its_scheme_is_refused(
    tmp_path: Path, make_fleet: FleetFactory, wheel: Built, caplog: pytest.LogCaptureFixture
) -> None:
    """Every member is inside the tree, but the manifest sends one file to purelib/../..."""

    def escape(tree: Path) -> None:
        (tree / "escape.py").write_text("print('outside the environment')\n")
        manifest = json.loads((tree / MANIFEST).read_text())
        manifest["files"].append(asdict(TreeFile("purelib", "../escape.py")))
        (tree / MANIFEST).write_text(json.dumps(manifest))

    cache = SharedCache({wheel.source_entry().object: wheel.data})
    cache.objects[wheel.tree_object] = tampered_tree(tmp_path, wheel, escape)
    publish(cache, [wheel.source_entry()])
    fleet = make_fleet(tmp_path / "data", cache)
    with caplog.at_level(logging.WARNING, logger="pip_accel.fleet.fleet"):
        assert fleet.plan(KEY) is not None
    path = tmp_path / "data" / "sources" / wheel.name
    assert UnpackedTree.load(fleet.trees.location(path)) is None, "the tree is not placed"
    assert len(messages(caplog)) == 1


def test_a_tree_that_lacks_a_file_of_its_manifest_is_a_warning(
    tmp_path: Path, make_fleet: FleetFactory, wheel: Built, caplog: pytest.LogCaptureFixture
) -> None:
    """A partial tree (packed while it was being replaced): one warning, the wheel is used."""
    cache = SharedCache({wheel.source_entry().object: wheel.data})
    missing = tampered_tree(
        tmp_path, wheel, lambda tree: (tree / "purelib/fleetpkg/sub/mod.py").unlink()
    )
    cache.objects[wheel.tree_object] = missing
    publish(cache, [wheel.source_entry()])
    fleet = make_fleet(tmp_path / "data", cache)
    with caplog.at_level(logging.WARNING, logger="pip_accel.fleet.fleet"):
        assert fleet.plan(KEY) is not None
    assert len(messages(caplog)) == 1
    assert os.listdir(tmp_path / "data" / "trees" / TAG) == []


def test_a_failed_fetch_leaves_the_local_build_of_the_same_key_alone(
    tmp_path: Path, make_fleet: FleetFactory, wheel: Built
) -> None:
    """The local cache has its own build under the plan's key; the fleet's wheel is missing."""
    fleet = make_fleet(tmp_path / "data", SharedCache())
    local = LocalCacheBackend(fleet.config)
    key = CacheKey(NAMESPACE, "fleetpkg", "1.0", SDIST_SHA256)
    own_build = tmp_path / "own" / wheel.name
    own_build.parent.mkdir()
    own_build.write_bytes(wheel.data + b"built here, not byte for byte the fleet's")
    local.put(key, own_build)
    cache = cast(SharedCache, fleet.cache)
    publish(cache, [wheel.binary_entry()])
    assert fleet.plan(KEY) is None
    stored = tmp_path / "data" / "binaries" / str(key.path) / wheel.name
    assert LocalCacheBackend(fleet.config).get(key) == stored, "the local build is still good"


def test_a_lost_shared_cache_is_no_warning_here_and_asks_nothing_more(
    tmp_path: Path, built: dict[str, Built], caplog: pytest.LogCaptureFixture
) -> None:
    """The backend is lost fetching the first wheel (the binary cache warned once): no warning
    per wheel, no other wheel or tree asked for, one line that the plan is not used."""
    wheels = [built["fleetpkg"], built["otherpkg"]]
    entries = [wheel.source_entry() for wheel in wheels]
    cache = SharedCache(
        {entry.object: wheel.data for entry, wheel in zip(entries, wheels, strict=True)}
    )
    publish(cache, entries)
    cache.lost_at = entries[0].object
    settings = {"data-directory": str(tmp_path / "data"), "s3-concurrency": "1"}
    fleet = Fleet(cast(BinaryCache, cache), Config(overrides=settings, environ={}), target())
    try:
        with caplog.at_level(logging.INFO, logger="pip_accel.fleet.fleet"):
            assert fleet.plan(KEY) is None
    finally:
        fleet.pool.shutdown()
    assert messages(caplog) == []
    assert messages(caplog, logging.INFO) == [
        "Not using the fleet's plan: the shared cache was lost; planning as usual."
    ]
    assert cache.fetched == [f"plans/{KEY}.json", wheels[0].tree_object, entries[0].object]
    assert fleet.damaged == set(), "a plan that was not checked is not replaced"


def test_a_shared_plan_that_a_writer_could_not_use_is_replaced(
    tmp_path: Path, make_fleet: FleetFactory, built: dict[str, Built]
) -> None:
    """Garbage or a plan that names a lost wheel: the writer's plan takes its place, once the
    wheels are stored; a sound plan of the bucket is kept as it is."""
    plan = f"plans/{KEY}.json"
    lost = replace(built["fleetpkg"].source_entry(), sha256="f" * 64)
    for damaged in (b"not json", json.dumps(plan_document([lost])).encode()):
        cache = SharedCache({plan: damaged})
        fleet = make_fleet(tmp_path / f"data-{len(damaged)}", cache)
        assert fleet.plan(KEY) is None
        wheels = cached_wheels(fleet.config, built)
        fleet.share(KEY, wheels)
        assert fleet.finish() == 3
        assert cache.stored[-1] == plan
        stored = parse_shared_plan(json.loads(cache.objects[plan]), KEY)
        assert [entry.file for entry in stored] == [built[name].name for name in built]
    sound = SharedCache({plan: cache.objects[plan]})
    writer = make_fleet(tmp_path / "sound", sound)
    writer.share(KEY, cached_wheels(writer.config, built))
    assert writer.finish() == 2, "the wheels only"
    assert sound.objects[plan] == cache.objects[plan]


def test_a_read_only_worker_replaces_no_damaged_plan(
    tmp_path: Path, make_fleet: FleetFactory, built: dict[str, Built]
) -> None:
    """It plans again, and leaves the damaged plan for a writer."""
    cache = SharedCache({f"plans/{KEY}.json": b"not json"}, writable=False)
    fleet = make_fleet(tmp_path / "data", cache)
    assert fleet.plan(KEY) is None
    fleet.share(KEY, cached_wheels(fleet.config, built))
    assert fleet.finish() == 0
    assert cache.objects == {f"plans/{KEY}.json": b"not json"}


def test_a_tree_that_a_writer_could_not_use_is_replaced(
    tmp_path: Path, make_fleet: FleetFactory, wheel: Built
) -> None:
    """An unsafe tree is unpacked here instead, and the writer stores its own over it."""
    evil = archive_with(tmp_path / "evil.tar.gz", member("../../escape")).read_bytes()
    cache = SharedCache({wheel.source_entry().object: wheel.data, wheel.tree_object: evil})
    publish(cache, [wheel.source_entry()])
    fleet = make_fleet(tmp_path / "data", cache)
    planned = fleet.plan(KEY)
    assert planned is not None
    tree = UnpackedTree.load(wheel.tree)
    assert tree is not None
    fleet.share_trees({Path(planned[0].wheel): tree})
    assert fleet.finish() == 1
    assert cache.objects[wheel.tree_object] != evil


# Fleet.share, share_trees and finish ----------------------------------------------------------


def cached_wheels(config: Config, built: dict[str, Built]) -> list[PlannedWheel]:
    """``fleetpkg`` downloaded into the local index, ``otherpkg`` built into the binary cache."""
    download = config.source_index / built["fleetpkg"].name
    key = CacheKey(NAMESPACE, "otherpkg", "1.0", SDIST_SHA256)
    build = config.binary_cache / str(key.path) / built["otherpkg"].name
    wheels = []
    direct_url: dict[str, Any] | None = None
    for path, wheel, requested in ((download, "fleetpkg", True), (build, "otherpkg", False)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(built[wheel].data)
        status = path.stat()
        wheels.append(
            PlannedWheel(
                wheel, "1.0", requested, str(path), status.st_size, status.st_mtime_ns, direct_url
            )
        )
        direct_url = {"url": "https://example.org/otherpkg-1.0.tar.gz", "archive_info": {}}
    return wheels


def test_a_worker_shares_what_an_empty_disk_then_installs_from(
    tmp_path: Path, make_fleet: FleetFactory, built: dict[str, Built]
) -> None:
    """share, share_trees and finish store the wheels, their trees and the plan (after the
    wheels); a worker with an empty data directory gets the same plan and the trees back."""
    cache = SharedCache()
    cache.wheel_delay = 0.05  # a plan stored without waiting would come first
    first = make_fleet(tmp_path / "first", cache)
    wheels = cached_wheels(first.config, built)
    trees = {}
    for path, name in zip((Path(item.wheel) for item in wheels), built, strict=True):
        tree = UnpackedTree.load(built[name].tree)
        assert tree is not None
        trees[path] = tree

    first.share(KEY, wheels)
    first.share_trees(trees)
    assert first.finish() == 5

    download, build = built["fleetpkg"].source_entry(), built["otherpkg"].binary_entry()
    plan = f"plans/{KEY}.json"
    wheel_objects = [download.object, build.object]
    tree_objects = [built["fleetpkg"].tree_object, built["otherpkg"].tree_object]
    assert sorted(cache.stored) == sorted([*wheel_objects, *tree_objects, plan])
    assert all(cache.stored.index(plan) > cache.stored.index(name) for name in wheel_objects)
    stored_plan = parse_shared_plan(json.loads(cache.objects[plan]), KEY)
    assert stored_plan == [download, replace(build, direct_url=wheels[1].direct_url)]
    assert os.listdir(tmp_path / "first" / "tmp") == [], "no packing leftovers"

    second = make_fleet(tmp_path / "second", cache)
    planned = second.plan(KEY)
    assert planned is not None
    assert [(item.name, item.requested, item.direct_url) for item in planned] == [
        (item.name, item.requested, item.direct_url) for item in wheels
    ]
    assert [item.sha256 for item in planned] == [
        built["fleetpkg"].sha256, built["otherpkg"].sha256,
    ]  # fmt: skip
    assert all(item.absent and not Path(item.wheel).exists() for item in planned)
    assert not set(wheel_objects) & set(cache.fetched), "the trees were enough"
    for item, name in zip(planned, built, strict=True):
        tree = UnpackedTree.load(second.trees.location(Path(item.wheel), item.sha256))
        assert tree is not None
        assert tree_contents(tree.directory) == tree_contents(built[name].tree)


def test_a_read_only_worker_stores_nothing(
    tmp_path: Path, make_fleet: FleetFactory, built: dict[str, Built]
) -> None:
    """Without shares_writes, share and share_trees queue nothing and finish stores nothing."""
    cache = SharedCache(writable=False)
    fleet = make_fleet(tmp_path / "data", cache)
    wheels = cached_wheels(fleet.config, built)
    tree = UnpackedTree.load(built["fleetpkg"].tree)
    assert tree is not None
    fleet.share(KEY, wheels)
    fleet.share_trees({Path(wheels[0].wheel): tree})
    assert fleet.uploads == []
    assert fleet.finish() == 0
    assert cache.stored == []


@pytest.mark.parametrize(
    "place", ["elsewhere/{name}", "binaries/too/shallow/{name}", "sources/sub/{name}"]
)
def test_a_wheel_outside_the_caches_means_nothing_is_shared(
    tmp_path: Path, make_fleet: FleetFactory, built: dict[str, Built], place: str
) -> None:
    """Other machines could not fetch such a wheel: neither the plan nor any wheel is stored."""
    cache = SharedCache()
    fleet = make_fleet(tmp_path / "data", cache)
    wheels = cached_wheels(fleet.config, built)
    path = tmp_path / "data" / place.format(name=built["fleetpkg"].name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(built["fleetpkg"].data)
    wheels[0] = replace(wheels[0], wheel=str(path))
    fleet.share(KEY, wheels)
    assert fleet.finish() == 0
    assert cache.stored == []


def test_finish_counts_only_what_was_stored(
    tmp_path: Path,
    make_fleet: FleetFactory,
    built: dict[str, Built],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A tree that cannot be stored is one warning; the objects stored are counted."""
    cache = SharedCache()
    fleet = make_fleet(tmp_path / "data", cache)
    wheels = cached_wheels(fleet.config, built)
    good = UnpackedTree.load(built["fleetpkg"].tree)
    assert good is not None
    with caplog.at_level(logging.WARNING, logger="pip_accel.fleet.fleet"):
        # The wheel of the second tree is gone: its sha256 (the tree's name) cannot be read.
        fleet.share_trees({Path(wheels[0].wheel): good, tmp_path / "gone.whl": good})
        assert fleet.finish() == 1
    assert cache.stored == [built["fleetpkg"].tree_object]
    (warning,) = messages(caplog)
    assert warning.startswith("Could not store an object in the shared cache: ")
