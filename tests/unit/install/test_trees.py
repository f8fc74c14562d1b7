"""Unpacked trees: sealed and stamped, described by a manifest, replaced when damaged.

Fast unit tests of :mod:`pip_accel.install.trees` on real files in a temporary directory. The
trees of :class:`TreeStore` are unpacked from small wheels written by
``support.fixtures.make_wheel`` and compiled by the module's own compiling subprocess, run
with this interpreter (the target is a stand-in with ``cache_tag`` and ``executable``): no
venv, no pip, no index.
"""

import io
import json
import logging
import os
import stat
import sys
import threading
import warnings
import zipfile
from dataclasses import replace
from hashlib import sha256
from pathlib import Path
from typing import cast

import pytest
from installer.records import Hash
from installer.utils import copyfileobj_with_hashing

from pip_accel.cli import main as cli
from pip_accel.datadir.layout import TREE_PREFIXES as PRIVATE_PREFIXES
from pip_accel.environment import TargetEnvironment
from pip_accel.exceptions import UnsafeWheelError
from pip_accel.files import hash_file
from pip_accel.install.compiler import Compiler
from pip_accel.install.manifest import FORMAT, MANIFEST, TreeFile, UnpackedTree, record_hash
from pip_accel.install.trees import TreeStore
from pip_accel.install.unpacker import BackgroundUnpacker, WheelQueue
from pip_accel.install.wheel_digests import WheelDigests

from support.fixtures import make_wheel

TAG = sys.implementation.cache_tag
"""The cache tag of this interpreter, which compiles the trees' bytecode."""

MODULES = {
    "treepkg/__init__.py": "VALUE = 1\n",
    "treepkg/sub/mod.py": "def main() -> None:\n    print('hello')\n",
}
ENTRY_POINTS = "[console_scripts]\ntreepkg-hello = treepkg.sub.mod:main\n"
SCRIPT = "#!python\nprint('tool')\n"


class FakeTarget:
    """The target environment as the tree store sees it: this interpreter."""

    cache_tag = TAG
    executable = sys.executable


def store_in(directory: Path) -> TreeStore:
    """A tree store under ``directory`` for this interpreter."""
    return TreeStore(directory, cast(TargetEnvironment, FakeTarget()))


def wheel(directory: Path, name: str = "treepkg", version: str = "1.0") -> Path:
    """A small wheel with modules in a package, an entry point and a script."""
    files = {
        **{path.replace("treepkg", name): text for path, text in MODULES.items()},
        f"{name}-{version}.dist-info/entry_points.txt": ENTRY_POINTS.replace("treepkg", name),
        f"{name}-{version}.data/scripts/{name}-tool": SCRIPT,
    }
    return make_wheel(directory, name, version, files)


def hand_made_tree(directory: Path) -> UnpackedTree:
    """A tree of two files written by hand, not yet sealed, with the hashes RECORD would have."""
    files = {"purelib/pkg/__init__.py": "A = 1\n", "scripts/tool": "#!python\n"}
    for path, text in files.items():
        (directory / path).parent.mkdir(parents=True, exist_ok=True)
        (directory / path).write_text(text)
        (directory / path).chmod(0o664)
    source = directory / "purelib/pkg/__init__.py"
    return UnpackedTree(
        directory,
        wheel_name="pkg-1.0-py3-none-any.whl",
        record_path="pkg-1.0.dist-info/RECORD",
        files=[TreeFile("purelib", "pkg/__init__.py", record_hash(source), 6)],
        scripts=[TreeFile("scripts", "tool", record_hash(directory / "scripts/tool"), 9, True)],
        entry_points=[("pkg-cli", "pkg", "main", "console")],
    )


def private_leftovers(store: TreeStore) -> list[str]:
    """Private directories and lock files left in the store's directory."""
    return sorted(name for name in os.listdir(store.directory) if name.startswith("."))


def writable(path: Path) -> bool:
    """Whether any write bit of a file is set."""
    return bool(path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def test_seal_makes_every_file_read_only_and_stamps_it(tmp_path: Path) -> None:
    """Each file loses its write bits and gets its size and modification time (ns)."""
    tree = hand_made_tree(tmp_path / "tree")
    tree.seal()
    for item in tree.files + tree.scripts:
        source = tree.source(item)
        assert not writable(source), item.path
        status = source.stat()
        assert item.stamp == (status.st_size, status.st_mtime_ns), item.path
    assert stat.S_IMODE(tree.source(tree.files[0]).stat().st_mode) == 0o444


def test_save_and_load_keep_everything_with_the_stamps(tmp_path: Path) -> None:
    """The manifest (format 2) gives back the same tree, stamps included."""
    tree = hand_made_tree(tmp_path / "tree")
    tree.bytecode.append(TreeFile("purelib", f"pkg/__pycache__/__init__.{TAG}.pyc"))
    (tmp_path / "tree/purelib/pkg/__pycache__").mkdir()
    (tmp_path / f"tree/purelib/pkg/__pycache__/__init__.{TAG}.pyc").write_bytes(b"bytecode")
    tree.seal()
    tree.save()

    manifest = json.loads((tree.directory / MANIFEST).read_text())
    assert manifest["format"] == FORMAT == 2
    loaded = UnpackedTree.load(tree.directory)

    assert loaded == tree
    assert loaded is not None and loaded.files[0].stamp is not None


def test_a_manifest_of_format_1_loads_as_none(tmp_path: Path) -> None:
    """A tree of pip-accel 1.0 (no stamps) is not used: it is unpacked again."""
    tree = hand_made_tree(tmp_path / "tree")
    tree.save()
    path = tree.directory / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["format"] = 1
    for item in manifest["files"] + manifest["scripts"]:
        del item["stamp"]
    path.write_text(json.dumps(manifest))
    assert UnpackedTree.load(tree.directory) is None


@pytest.mark.parametrize(
    "text", ["", "{", "[]", '{"format": 2}', '{"format": 2, "files": 1}', "null"]
)
def test_a_missing_or_damaged_manifest_loads_as_none(tmp_path: Path, text: str) -> None:
    """No manifest, or one that is not a whole manifest: no tree (it is unpacked again)."""
    assert UnpackedTree.load(tmp_path) is None
    (tmp_path / MANIFEST).write_text(text)
    assert UnpackedTree.load(tmp_path) is None


def test_changed_files_finds_a_same_size_edit(tmp_path: Path) -> None:
    """A file whose contents differ from its hash is named, even at the same size and time."""
    tree = hand_made_tree(tmp_path / "tree")
    tree.seal()
    assert tree.changed_files() == []
    source = tree.source(tree.files[0])
    before = source.stat()
    source.chmod(0o644)
    source.write_text("A = 2\n")
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert source.stat().st_size == before.st_size
    assert tree.changed_files() == [source]


def test_changed_files_names_a_missing_file_and_skips_files_without_hash(tmp_path: Path) -> None:
    """A file that is gone does not match its hash; a file without a hash is not checked."""
    tree = hand_made_tree(tmp_path / "tree")
    tree.files.append(TreeFile("purelib", "pkg/unhashed.py"))
    (tmp_path / "tree/purelib/pkg/unhashed.py").write_text("anything\n")
    tree.source(tree.scripts[0]).unlink()
    assert tree.changed_files() == [tree.source(tree.scripts[0])]


def test_record_hash_is_the_form_of_record(tmp_path: Path) -> None:
    """``sha256=`` and the unpadded urlsafe base64 digest, as installer and wheels write it."""
    data = b"print('hello')\n" * 7
    path = tmp_path / "mod.py"
    path.write_bytes(data)
    digest, size = copyfileobj_with_hashing(io.BytesIO(data), io.BytesIO(), "sha256")
    assert record_hash(path) == str(Hash("sha256", digest))
    assert size == len(data)
    made = make_wheel(tmp_path / "w", "hashpkg", "1.0", {"hashpkg/mod.py": data})
    with zipfile.ZipFile(made) as archive:
        record = archive.read("hashpkg-1.0.dist-info/RECORD").decode()
    assert f"hashpkg/mod.py,{record_hash(path)},{len(data)}" in record.splitlines()
    assert record_hash(tmp_path / "missing") is None


def test_trees_for_unpacks_compiles_seals_and_publishes(tmp_path: Path) -> None:
    """The tree is at its location with its manifest, bytecode for this interpreter, read-only
    files, the entry point noted and the script kept as in the wheel; nothing private is left."""
    made = wheel(tmp_path / "wheels")
    store = store_in(tmp_path / "trees")

    tree = store.trees_for([made])[made]

    assert tree.directory == store.location(made)
    assert store.directory == tmp_path / "trees" / TAG
    assert UnpackedTree.load(tree.directory) == tree
    assert tree.wheel_name == made.name
    assert tree.record_path == "treepkg-1.0.dist-info/RECORD"
    assert {item.path for item in tree.files} >= set(MODULES)
    assert sorted(item.path for item in tree.bytecode) == [
        f"treepkg/__pycache__/__init__.{TAG}.pyc",
        f"treepkg/sub/__pycache__/mod.{TAG}.pyc",
    ]
    for item in tree.files + tree.scripts + tree.bytecode:
        assert tree.source(item).is_file(), item.path
        assert not writable(tree.source(item)), item.path
        assert item.stamp is not None, item.path
    assert tree.entry_points == [("treepkg-hello", "treepkg.sub.mod", "main", "console")]
    assert [item.path for item in tree.scripts] == ["treepkg-tool"]
    assert tree.source(tree.scripts[0]).read_text() == SCRIPT
    assert tree.changed_files() == []
    assert private_leftovers(store) == []


def test_trees_for_uses_a_published_tree_without_unpacking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second call loads the manifest; nothing is unpacked or compiled again."""
    made = wheel(tmp_path / "wheels")
    store = store_in(tmp_path / "trees")
    first = store.trees_for([made])[made]

    def refuse(wheels: list[Path]) -> dict[Path, UnpackedTree]:
        raise AssertionError(f"unpacked again: {wheels}")

    monkeypatch.setattr(store, "_unpack_all", refuse)
    assert store.trees_for([made]) == {made: first}


def test_unpack_all_publishes_each_tree_with_its_bytecode(tmp_path: Path) -> None:
    """Two wheels in one batch: each tree is published, compiled for this interpreter's tag."""
    wheels = [wheel(tmp_path / "wheels", "alpha"), wheel(tmp_path / "wheels", "beta")]
    store = store_in(tmp_path / "trees")

    trees = store._unpack_all(wheels)

    assert set(trees) == set(wheels)
    for made, tree in trees.items():
        assert tree.directory == store.location(made)
        assert UnpackedTree.load(tree.directory) == tree
        assert len(tree.bytecode) == 2, made.name
        for item in tree.bytecode:
            assert item.path.endswith(f".{TAG}.pyc")
            assert tree.source(item).is_file()
    assert private_leftovers(store) == []
    assert not any(name.startswith(PRIVATE_PREFIXES[0]) for name in os.listdir(store.directory))


def test_unpack_all_keeps_the_tree_another_process_published_first(tmp_path: Path) -> None:
    """When the location holds a complete tree already, that one is used and ours removed."""
    made = wheel(tmp_path / "wheels")
    store = store_in(tmp_path / "trees")
    first = store._unpack_all([made])[made]
    marker = first.directory / "marker"
    marker.write_text("")

    second = store._unpack_all([made])[made]

    assert second == first
    assert marker.is_file()  # the first tree was not replaced
    assert private_leftovers(store) == []


def test_unpack_all_replaces_an_incomplete_tree(tmp_path: Path) -> None:
    """A directory at the location without a manifest (a tree of another layout) is replaced."""
    made = wheel(tmp_path / "wheels")
    store = store_in(tmp_path / "trees")
    incomplete = store.location(made)
    (incomplete / "purelib").mkdir(parents=True)
    (incomplete / "purelib/stale.py").write_text("")

    tree = store._unpack_all([made])[made]

    assert tree.directory == incomplete
    assert not (incomplete / "purelib/stale.py").exists()
    assert UnpackedTree.load(incomplete) == tree


def test_an_unsafe_wheel_leaves_no_private_tree(tmp_path: Path) -> None:
    """A wheel with a member outside the target is refused, and its private tree is removed."""
    evil = make_wheel(tmp_path / "wheels", "evilpkg", "1.0", {"../evil.py": "EVIL = 1\n"})
    store = store_in(tmp_path / "trees")
    with pytest.raises(UnsafeWheelError, match="would land outside"):
        store._unpack_all([evil])
    assert os.listdir(store.directory) == []
    assert not (tmp_path / "trees/evil.py").exists()


def test_replace_unpacks_a_damaged_read_only_tree_again(tmp_path: Path) -> None:
    """A tree with an edited file and read-only files and directories is replaced by a sound one."""
    made = wheel(tmp_path / "wheels")
    store = store_in(tmp_path / "trees")
    damaged = store.trees_for([made])[made]
    module = next(item for item in damaged.files if item.path == "treepkg/sub/mod.py")
    source = damaged.source(module)
    source.chmod(0o644)
    source.write_text("EDITED = True\n")
    source.chmod(0o444)
    for directory in (source.parent, source.parent.parent, damaged.directory / "purelib"):
        directory.chmod(0o555)

    tree = store.replace(made)

    assert tree.directory == store.location(made)
    assert tree.source(module).read_text() == MODULES["treepkg/sub/mod.py"]
    assert tree.changed_files() == []
    assert UnpackedTree.load(tree.directory) == tree
    assert private_leftovers(store) == []


def test_replace_without_a_tree_leaves_nothing_private(tmp_path: Path) -> None:
    """A tree that vanished altogether is unpacked again, and no private directory stays."""
    made = wheel(tmp_path / "wheels")
    store = store_in(tmp_path / "trees")
    tree = store.replace(made)
    assert UnpackedTree.load(tree.directory) == tree
    assert private_leftovers(store) == []


def test_background_unpacker_publishes_wheels_handed_in_from_threads(tmp_path: Path) -> None:
    """Wheels handed in from two threads are published; trees_for then unpacks nothing."""
    wheels = [wheel(tmp_path / "wheels", "alpha"), wheel(tmp_path / "wheels", "beta")]
    store = store_in(tmp_path / "trees")
    unpacker = BackgroundUnpacker(store)
    threads = [threading.Thread(target=unpacker.add, args=(made,)) for made in wheels]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    unpacker.add(tmp_path / "wheels" / "alpha-1.0.tar.gz")  # not a wheel: ignored
    unpacker.finish()
    assert sorted(store.unpacked) == sorted(wheels)
    for made in wheels:
        tree = UnpackedTree.load(store.location(made))
        assert tree is not None and tree.bytecode, made.name
    assert private_leftovers(store) == []


def test_background_unpacker_skips_a_published_tree_and_can_stop(tmp_path: Path) -> None:
    """A wheel with a tree is not queued; after stop nothing more is unpacked."""
    made = wheel(tmp_path / "wheels", "alpha")
    store = store_in(tmp_path / "trees")
    store.trees_for([made])
    unpacker = BackgroundUnpacker(store)
    unpacker.add(made)
    assert unpacker.thread is None, "a published tree starts no work"
    other = wheel(tmp_path / "wheels", "beta")
    unpacker.stop()
    unpacker.add(other)
    unpacker.finish()
    assert UnpackedTree.load(store.location(other)) is None
    assert private_leftovers(store) == []


def test_waiting_for_one_wheel_returns_once_its_tree_is_published(tmp_path: Path) -> None:
    """The install of a wheel need not wait for the others; a wheel never handed in, or a
    stopped unpacker, does not block."""
    wheels = [wheel(tmp_path / "wheels", "alpha"), wheel(tmp_path / "wheels", "beta")]
    store = store_in(tmp_path / "trees")
    seen: list[Path] = []
    store.listeners.append(seen.append)
    unpacker = BackgroundUnpacker(store)
    for made in wheels:
        unpacker.add(made)
    unpacker.close()
    unpacker.wait(wheels[0])
    assert UnpackedTree.load(store.location(wheels[0])) is not None
    unpacker.wait(tmp_path / "never-handed-in.whl")
    unpacker.finish()
    assert sorted(seen) == sorted(wheels), "the progress line still counts each tree"


def test_the_wheel_queue_takes_the_wheels_an_install_waits_for_first() -> None:
    """In the order put in, until an order is given: then those first, in that order."""
    wheels = [Path(f"w{number}.whl") for number in range(5)]
    queue = WheelQueue()
    for made in wheels[:3]:
        queue.put(made)
    taken = iter(queue)
    assert next(taken) == wheels[0]
    queue.prioritize([wheels[4], wheels[2]])
    queue.put(wheels[3])
    queue.put(wheels[4])
    queue.close()
    assert list(taken) == [wheels[4], wheels[2], wheels[1], wheels[3]]


def test_the_wheel_queue_waits_for_a_wheel_until_closed() -> None:
    """Taking from an empty queue waits for the next wheel put in from another thread."""
    queue = WheelQueue()
    taken: list[Path] = []
    reader = threading.Thread(target=lambda: taken.extend(queue))
    reader.start()
    queue.put(Path("late.whl"))
    queue.close()
    reader.join(10)
    assert not reader.is_alive()
    assert taken == [Path("late.whl")]


def test_the_background_unpacker_unpacks_in_the_install_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wheels handed in before the install's order is known are taken in that order (one
    thread here, so that the order in which they start is the order they were taken in)."""
    monkeypatch.setattr("pip_accel.install.trees.UNPACK_THREADS", 1)
    wheels = [wheel(tmp_path / "wheels", name) for name in ("alpha", "beta", "gamma", "delta")]
    store = store_in(tmp_path / "trees")
    unpacker = BackgroundUnpacker(store)
    unpacker.prioritize([wheels[3], wheels[1]])
    with unpacker.queue.condition:  # all four are queued before the first is taken
        for made in wheels:
            unpacker.add(made)
    unpacker.finish()
    assert store.unpacked == [wheels[3], wheels[1], wheels[0], wheels[2]]


def test_the_compiler_counts_its_backlog_until_batches_are_compiled(tmp_path: Path) -> None:
    """Modules handed in count until their batch is reported; waiting for a smaller
    backlog returns once it is compiled."""
    directory = tmp_path / "mods"
    directory.mkdir()
    paths = []
    for number in range(3):
        paths.append(directory / f"m{number}.py")
        paths[-1].write_text(f"VALUE = {number}\n")
    done: list[str] = []
    with Compiler(cast(TargetEnvironment, FakeTarget()), done.append) as compiler:
        compiler.add("batch", paths)
        assert compiler.backlog in (0, 3)
        compiler.wait_for_backlog(0)
        assert compiler.backlog == 0
        assert done == ["batch"]
    assert all((directory / "__pycache__" / f"m{n}.{TAG}.pyc").is_file() for n in range(3))


def test_installers_warning_of_a_shipped_pycache_goes_to_the_debug_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """numpy's wheels ship ``__pycache__`` files, which installer skips with a RuntimeWarning at
    every cold install: the user can do nothing about it, so it is a debug line; any other
    RuntimeWarning stays a WARNING."""
    files: dict[str, str | bytes] = {**MODULES, "treepkg/__pycache__/x.cpython-311.pyc": b"old"}
    shipped = make_wheel(tmp_path / "wheels", "treepkg", "1.0", files)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tree = store_in(tmp_path / "trees").trees_for([shipped])[shipped]
    assert not any("__pycache__" in item.path for item in tree.files)
    skipped = [item for item in caught if "Skip installing" in str(item.message)]
    assert len(skipped) == 1 and skipped[0].category is RuntimeWarning
    other = warnings.WarningMessage(RuntimeWarning("disk nearly full"), RuntimeWarning, "x.py", 1)
    with caplog.at_level(logging.DEBUG, logger="pip_accel"):
        for item in [*skipped, other]:
            cli.log_warning(item.message, item.category, item.filename, item.lineno)
    levels = {
        record.getMessage().split(": ", 1)[1].split()[0]: record.levelno
        for record in caplog.records
        if record.name == "pip_accel.warnings" and record.getMessage().startswith("Runtime")
    }
    assert levels == {"Skip": logging.DEBUG, "disk": logging.WARNING}


class OtherTarget(FakeTarget):
    """A target of another interpreter version (only its cache tag differs)."""

    cache_tag = "cpython-399"


def test_the_same_wheel_at_two_paths_has_one_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tree is named by its wheel's contents: a copy of the wheel elsewhere, with another
    time, finds the tree the first one made, and nothing is unpacked."""
    made = wheel(tmp_path / "one")
    copy = wheel(tmp_path / "two")
    os.utime(copy, ns=(0, made.stat().st_mtime_ns + 10**9))
    store = store_in(tmp_path / "trees")
    tree = store.trees_for([made])[made]

    def refuse(wheels: list[Path]) -> dict[Path, UnpackedTree]:
        raise AssertionError(f"unpacked again: {wheels}")

    monkeypatch.setattr(store, "_unpack_all", refuse)
    assert store.location(copy) == store.location(made) == tree.directory
    assert store.trees_for([copy]) == {copy: tree}
    assert tree.directory.name == f"{made.name[:-4]}-{hash_file(made)}"


def test_another_cache_tag_or_other_contents_have_another_tree(tmp_path: Path) -> None:
    """The tree of a wheel for another interpreter version, or of a wheel whose contents
    changed (same path, same size), is another directory."""
    made = wheel(tmp_path / "wheels")
    store = store_in(tmp_path / "trees")
    other = TreeStore(tmp_path / "trees", cast(TargetEnvironment, OtherTarget()))
    assert other.location(made).parent.name == "cpython-399"
    assert other.location(made) != store.location(made)
    before = store.location(made)
    data = bytearray(made.read_bytes())
    data[-1] ^= 1  # one byte of other contents, at the same size
    made.write_bytes(bytes(data))
    assert store.location(made) != before


def test_a_store_names_trees_from_the_records_of_its_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With records kept beside its wheels, the tree's name costs no hashing the second time."""
    sources = tmp_path / "sources"
    made = wheel(sources)
    store = TreeStore(
        tmp_path / "trees", cast(TargetEnvironment, FakeTarget()), WheelDigests([sources])
    )
    tree = store.trees_for([made])[made]
    assert (sources / ".sha256" / made.name).is_file()
    monkeypatch.setattr("pip_accel.datadir.records.hash_file", refuse_hashing)
    monkeypatch.setattr("pip_accel.install.wheel_digests.hash_file", refuse_hashing)
    assert store.trees_for([made]) == {made: tree}


def refuse_hashing(path: Path) -> str:
    """A stand-in for ``hash_file`` on a warm path, where nothing is hashed."""
    raise AssertionError(f"hashed {path}")


def test_a_tree_of_the_older_naming_is_renamed_once(tmp_path: Path) -> None:
    """A tree named by its wheel's path, size and time (earlier versions) is found and
    renamed to its new name, not unpacked again."""
    made = wheel(tmp_path / "wheels")
    store = store_in(tmp_path / "trees")
    tree = store.trees_for([made])[made]
    status = made.stat()
    identity = f"{made.absolute()}\0{status.st_size}\0{status.st_mtime_ns}"
    legacy = store.directory / f"{made.name[:-4]}-{sha256(identity.encode()).hexdigest()[:24]}"
    os.rename(tree.directory, legacy)

    found = store.find(made)

    assert found is not None and found.directory == store.location(made)
    assert not legacy.exists()
    assert found == replace(tree, directory=store.location(made))
    assert store.find(wheel(tmp_path / "other", "otherpkg")) is None
