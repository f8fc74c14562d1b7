"""Installing an unpacked tree: where each file goes, the tree's checks, and whole replacements.

Fast unit tests of :mod:`pip_accel.install.installer` on real files in a temporary directory. The
trees are made by hand (the files of a wheel of ``pkg``, already unpacked and sealed, as
:mod:`pip_accel.install.trees` leaves them), and the target environment is a stand-in with a
scheme of plain directories: no venv, no pip, no probe, no subprocess.
"""

import csv
import logging
import os
import stat
from pathlib import Path
from typing import cast

import pytest
from installer.records import RecordEntry
from installer.utils import Scheme

from pip_accel.environment import InstalledDistribution, InstallScheme, TargetEnvironment
from pip_accel.exceptions import DamagedTreeError, InstallError
from pip_accel.install.installer import (
    Destination,
    InstallOptions,
    WheelInstaller,
    check_tree,
    check_tree_file,
)
from pip_accel.install.links import Linker
from pip_accel.install.manifest import TreeFile, UnpackedTree, record_hash
from pip_accel.interrupts import Interrupted

TAG = "cpython-311"
INTERPRETER = "/opt/python/bin/python3"
"""The target interpreter that scripts name in their ``#!`` line."""

OLD = {"pkg/__init__.py": "VERSION = '1.0'\n", "pkg/old.py": "OLD = True\n"}
NEW = {"pkg/__init__.py": "VERSION = '2.0'\n", "pkg/new.py": "NEW = True\n"}


def make_tree(directory: Path, version: str, modules: dict[str, str]) -> UnpackedTree:
    """The sealed tree of ``pkg`` ``version``: modules, bytecode, a script and an entry point."""
    dist_info = f"pkg-{version}.dist-info"
    contents = {
        **{f"purelib/{path}": text for path, text in modules.items()},
        f"purelib/{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: pkg\nVersion: {version}\n",
        f"purelib/{dist_info}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n",
        "scripts/pkg-tool": "#!python\nprint('tool')\n",
        f"purelib/pkg/__pycache__/__init__.{TAG}.pyc": "bytecode",
    }
    for path, text in contents.items():
        (directory / path).parent.mkdir(parents=True, exist_ok=True)
        (directory / path).write_text(text)

    def item(scheme: str, path: str, executable: bool = False) -> TreeFile:
        source = directory / scheme / path
        return TreeFile(scheme, path, record_hash(source), source.stat().st_size, executable)

    tree = UnpackedTree(
        directory,
        wheel_name=f"pkg-{version}-py3-none-any.whl",
        record_path=f"{dist_info}/RECORD",
        files=[
            *(item("purelib", path) for path in modules),
            item("purelib", f"{dist_info}/METADATA"),
            item("purelib", f"{dist_info}/WHEEL"),
        ],
        scripts=[item("scripts", "pkg-tool", executable=True)],
        entry_points=[("pkg-cli", "pkg", "main", "console")],
        bytecode=[TreeFile("purelib", f"pkg/__pycache__/__init__.{TAG}.pyc")],
    )
    tree.seal()
    return tree


class FakeTarget:
    """A target environment with a scheme of plain directories under ``prefix``."""

    executable = INTERPRETER

    def __init__(self, prefix: Path) -> None:
        """The scheme's directories; only the library directory exists, as in a new venv."""
        self.site = prefix / "lib/site-packages"
        self.bin = prefix / "bin"
        self.site.mkdir(parents=True)
        self.paths = {
            "purelib": str(self.site),
            "platlib": str(self.site),
            "scripts": str(self.bin),
            "headers": str(prefix / "include/pkg"),
            "data": str(prefix),
        }

    def scheme(
        self, name: str, user: bool = False, prefix: str | None = None, root: str | None = None
    ) -> InstallScheme:
        """The one scheme of this environment."""
        return InstallScheme(dict(self.paths), root)

    def installed(self, name: str, scheme: InstallScheme) -> InstalledDistribution | None:
        """The installed ``.dist-info`` of ``name``, if any."""
        for dist_info in Path(scheme.paths["purelib"]).glob(f"{name}-*.dist-info"):
            version = dist_info.name[len(name) + 1 : -len(".dist-info")]
            return InstalledDistribution(name, version, dist_info)  # type: ignore[arg-type]
        return None


def installer(target: FakeTarget, **options: object) -> WheelInstaller:
    """pip-accel's installer for the stand-in target."""
    return WheelInstaller(cast(TargetEnvironment, target), InstallOptions(**options))  # type: ignore[arg-type]


def record_rows(target: FakeTarget, version: str) -> dict[str, list[str]]:
    """The rows of the installed ``RECORD`` of ``pkg`` ``version``, by path."""
    record = target.site / f"pkg-{version}.dist-info/RECORD"
    with record.open(newline="") as stream:
        return {row[0]: row for row in csv.reader(stream)}


def assert_whole(target: FakeTarget, version: str) -> None:
    """``pkg`` ``version`` is installed: RECORD lists every file, each there with its hash."""
    rows = record_rows(target, version)
    for path, row in rows.items():
        installed = Path(os.path.normpath(target.site / path))
        assert installed.is_file(), path
        if row[1]:
            assert record_hash(installed) == row[1], path
            assert str(installed.stat().st_size) == row[2], path
    dist_infos = [p.name for p in target.site.iterdir() if p.name.endswith(".dist-info")]
    assert dist_infos == [f"pkg-{version}.dist-info"]


def leftovers(target: FakeTarget) -> list[str]:
    """Transaction directories and lock files left in the library directory."""
    return [name for name in os.listdir(target.site) if name.startswith(".pip-accel")]


@pytest.fixture
def target(tmp_path: Path) -> FakeTarget:
    """An empty stand-in environment."""
    return FakeTarget(tmp_path / "env")


@pytest.fixture
def old_tree(tmp_path: Path) -> UnpackedTree:
    """The tree of ``pkg`` 1.0."""
    return make_tree(tmp_path / "trees/pkg-1.0", "1.0", OLD)


@pytest.fixture
def new_tree(tmp_path: Path) -> UnpackedTree:
    """The tree of ``pkg`` 2.0."""
    return make_tree(tmp_path / "trees/pkg-2.0", "2.0", NEW)


def destination(target: FakeTarget, staging: Path | None, root: str | None = None) -> Destination:
    """The destination of ``pkg`` 1.0 in the stand-in target, as the installer makes it."""
    return Destination(
        scheme_dict=dict(target.paths),
        interpreter=INTERPRETER,
        script_kind="posix",
        destdir=root,
        linker=Linker("copy"),
        root_scheme="purelib",
        dist_info="pkg-1.0.dist-info",
        staging=staging,
    )


def test_dist_info_files_go_to_staging_and_others_into_the_scheme(
    target: FakeTarget, old_tree: UnpackedTree, tmp_path: Path
) -> None:
    """``target`` puts the ``.dist-info`` files into staging, the rest into their scheme."""
    staging = tmp_path / "staging"
    dest = destination(target, staging)
    by_path = {item.path: item for item in old_tree.files}
    assert dest.target(by_path["pkg/__init__.py"]) == f"{target.site}/pkg/__init__.py"
    assert dest.target(by_path["pkg-1.0.dist-info/METADATA"]) == str(staging / "METADATA")
    assert dest.target(old_tree.scripts[0]) == f"{target.bin}/pkg-tool"


def test_without_staging_the_dist_info_goes_into_the_library(
    target: FakeTarget, old_tree: UnpackedTree
) -> None:
    """Without a transaction's staging directory, ``.dist-info`` files go where they belong."""
    dest = destination(target, None)
    metadata = next(item for item in old_tree.files if item.path.endswith("METADATA"))
    assert dest.target(metadata) == f"{target.site}/pkg-1.0.dist-info/METADATA"


def test_planned_lists_every_path_outside_the_dist_info(
    target: FakeTarget, old_tree: UnpackedTree, tmp_path: Path
) -> None:
    """Modules, bytecode (when compiled), entry point scripts and scripts; no ``.dist-info``."""
    dest = destination(target, tmp_path / "staging")
    modules = [f"{target.site}/pkg/__init__.py", f"{target.site}/pkg/old.py"]
    scripts = [f"{target.bin}/pkg-cli", f"{target.bin}/pkg-tool"]
    bytecode = [f"{target.site}/pkg/__pycache__/__init__.{TAG}.pyc"]
    assert dest.planned(old_tree, compiled=False) == modules + scripts
    assert dest.planned(old_tree, compiled=True) == modules + bytecode + scripts


def test_a_root_prefixes_every_scheme_directory(target: FakeTarget, tmp_path: Path) -> None:
    """With ``--root`` every base directory lies below the root."""
    root = tmp_path / "root"
    dest = destination(target, None, root=str(root))
    assert dest.bases["purelib"] == f"{root}{target.site}"
    assert dest.bases["scripts"] == f"{root}{target.bin}"


def test_check_tree_file_passes_a_file_as_it_was_made(old_tree: UnpackedTree) -> None:
    """A file with the size and modification time of its stamp passes."""
    for item in old_tree.files + old_tree.scripts:
        assert item.stamp is not None
        check_tree_file(old_tree, item, str(old_tree.source(item)))


def test_check_tree_file_refuses_a_missing_file(old_tree: UnpackedTree) -> None:
    """A file that is gone is a damaged tree, and the message names it."""
    item = old_tree.files[0]
    source = old_tree.source(item)
    source.unlink()
    with pytest.raises(DamagedTreeError, match="lacks") as raised:
        check_tree_file(old_tree, item, str(source))
    assert str(source) in str(raised.value)


def test_check_tree_file_refuses_a_file_of_another_size(old_tree: UnpackedTree) -> None:
    """A file edited in place (through a hard link) is refused, its time even put back."""
    item = old_tree.files[0]
    source = old_tree.source(item)
    before = source.stat()
    source.chmod(0o644)
    source.write_text(source.read_text() + "# edited\n")
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(DamagedTreeError, match="was changed after it was unpacked"):
        check_tree_file(old_tree, item, str(source))


def test_check_tree_file_refuses_a_file_with_another_time(old_tree: UnpackedTree) -> None:
    """The same size but another modification time is refused too."""
    item = old_tree.files[0]
    source = old_tree.source(item)
    mtime = source.stat().st_mtime_ns
    os.utime(source, ns=(mtime, mtime + 1_000_000_000))
    with pytest.raises(DamagedTreeError, match="was changed"):
        check_tree_file(old_tree, item, str(source))


def test_check_tree_file_without_a_stamp_checks_existence_only(old_tree: UnpackedTree) -> None:
    """Bytecode has no stamp: a changed time is not checked, a missing file still is."""
    item = old_tree.bytecode[0]
    assert item.stamp is not None  # sealed like the rest
    unstamped = TreeFile(item.scheme, item.path)
    source = old_tree.source(item)
    os.utime(source, ns=(0, 0))
    check_tree_file(old_tree, unstamped, str(source))
    source.unlink()
    with pytest.raises(DamagedTreeError):
        check_tree_file(old_tree, unstamped, str(source))


def test_check_tree_finds_a_same_size_change_by_its_hash(old_tree: UnpackedTree) -> None:
    """An edit that keeps size and time passes the stamp check, but not the full hash check."""
    check_tree(old_tree)
    item = next(item for item in old_tree.files if item.path == "pkg/old.py")
    source = old_tree.source(item)
    before = source.stat()
    source.chmod(0o644)
    source.write_text("OLD = Fals\n")
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    check_tree_file(old_tree, item, str(source))  # the stamp cannot tell
    with pytest.raises(DamagedTreeError, match="does not match the hash") as raised:
        check_tree(old_tree)
    assert str(source) in str(raised.value)


def test_a_fresh_install_writes_every_file_and_a_full_record(
    target: FakeTarget, old_tree: UnpackedTree
) -> None:
    """Files, bytecode, scripts and pip's metadata are there, and RECORD lists all of them."""
    direct_url = {"url": "file:///src/pkg", "dir_info": {}}
    installer(target).install(old_tree, "pkg", True, direct_url)

    assert_whole(target, "1.0")
    rows = record_rows(target, "1.0")
    assert set(rows) == {
        "pkg/__init__.py",
        "pkg/old.py",
        f"pkg/__pycache__/__init__.{TAG}.pyc",
        "../../bin/pkg-cli",
        "../../bin/pkg-tool",
        "pkg-1.0.dist-info/METADATA",
        "pkg-1.0.dist-info/WHEEL",
        "pkg-1.0.dist-info/INSTALLER",
        "pkg-1.0.dist-info/REQUESTED",
        "pkg-1.0.dist-info/direct_url.json",
        "pkg-1.0.dist-info/RECORD",
    }
    dist_info = target.site / "pkg-1.0.dist-info"
    assert (dist_info / "INSTALLER").read_text() == "pip-accel\n"
    assert (dist_info / "direct_url.json").read_text() == (
        '{"dir_info": {}, "url": "file:///src/pkg"}'
    )
    for script in ("pkg-cli", "pkg-tool"):
        text = (target.bin / script).read_text()
        assert text.startswith(f"#!{INTERPRETER}\n"), script
        assert (target.bin / script).stat().st_mode & stat.S_IXUSR, script
    assert leftovers(target) == []


def test_hardlink_mode_links_the_tree_files(target: FakeTarget, old_tree: UnpackedTree) -> None:
    """In the default mode an installed module is the tree's file; scripts are written anew."""
    installer(target, link_mode="hardlink").install(old_tree, "pkg", False, None)
    module = next(item for item in old_tree.files if item.path == "pkg/old.py")
    assert os.path.samefile(old_tree.source(module), target.site / "pkg/old.py")
    assert not os.path.samefile(old_tree.source(old_tree.scripts[0]), target.bin / "pkg-tool")
    assert not (target.site / "pkg-1.0.dist-info/REQUESTED").exists()


def test_no_bytecode_is_placed_without_compile(target: FakeTarget, old_tree: UnpackedTree) -> None:
    """``--no-compile``: the tree's bytecode stays out of the environment and out of RECORD."""
    installer(target, compile=False).install(old_tree, "pkg", False, None)
    assert not (target.site / "pkg/__pycache__").exists()
    assert f"pkg/__pycache__/__init__.{TAG}.pyc" not in record_rows(target, "1.0")
    assert_whole(target, "1.0")


def test_a_replacement_leaves_only_the_new_version(
    target: FakeTarget,
    old_tree: UnpackedTree,
    new_tree: UnpackedTree,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1.0's files and ``.dist-info`` are gone, 2.0's are there, and the log names both."""
    caplog.set_level(logging.INFO, logger="pip_accel.install.installer")
    installer(target).install(old_tree, "pkg", True, None)

    installer(target).install(new_tree, "pkg", True, None)

    assert_whole(target, "2.0")
    assert not (target.site / "pkg/old.py").exists()
    assert (target.site / "pkg/__init__.py").read_text() == NEW["pkg/__init__.py"]
    assert (target.site / "pkg/new.py").read_text() == NEW["pkg/new.py"]
    assert leftovers(target) == []
    messages = [r.getMessage() for r in caplog.records if r.name == "pip_accel.install.installer"]
    assert messages == ["Replaced pkg 1.0 with pkg-2.0-py3-none-any.whl."]


def test_a_reinstall_of_the_same_version_is_whole(
    target: FakeTarget, old_tree: UnpackedTree
) -> None:
    """Installing 1.0 over 1.0 (``--force-reinstall``) moves the old one aside and is whole."""
    installer(target).install(old_tree, "pkg", True, None)
    installer(target).install(old_tree, "pkg", False, None)
    assert_whole(target, "1.0")
    assert not (target.site / "pkg-1.0.dist-info/REQUESTED").exists()
    assert leftovers(target) == []


def assert_old_version_kept(target: FakeTarget) -> None:
    """1.0 is installed as it was, nothing of 2.0 is left, and no transaction either."""
    assert_whole(target, "1.0")
    assert (target.site / "pkg/__init__.py").read_text() == OLD["pkg/__init__.py"]
    assert (target.site / "pkg/old.py").read_text() == OLD["pkg/old.py"]
    assert not (target.site / "pkg-2.0.dist-info").exists()
    assert leftovers(target) == []


def test_a_failure_midway_rolls_back_to_the_old_version(
    target: FakeTarget, old_tree: UnpackedTree, new_tree: UnpackedTree
) -> None:
    """A directory in the way of one of 2.0's files: InstallError, and 1.0 is whole again."""
    installer(target).install(old_tree, "pkg", True, None)
    (target.site / "pkg/new.py").mkdir()

    with pytest.raises(InstallError) as raised:
        installer(target).install(new_tree, "pkg", True, None)

    assert type(raised.value) is InstallError
    message = str(raised.value)
    assert message.startswith("Failed to install pkg-2.0-py3-none-any.whl: ")
    assert message.endswith("; pkg 1.0 was kept.")
    assert_old_version_kept(target)
    assert (target.site / "pkg/new.py").is_dir()  # not ours to remove


def test_a_damaged_tree_rolls_back_and_is_reported_as_such(
    target: FakeTarget, old_tree: UnpackedTree, new_tree: UnpackedTree
) -> None:
    """A file of the new tree is gone: DamagedTreeError itself (the caller unpacks again)."""
    installer(target).install(old_tree, "pkg", True, None)
    new_tree.source(new_tree.files[1]).unlink()

    with pytest.raises(DamagedTreeError):
        installer(target).install(new_tree, "pkg", True, None)

    assert_old_version_kept(target)


def test_an_interruption_midway_rolls_back_and_goes_on(
    target: FakeTarget,
    old_tree: UnpackedTree,
    new_tree: UnpackedTree,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGTERM while linking: the old version is back, and the interruption is not swallowed."""
    installer(target).install(old_tree, "pkg", True, None)
    real_link = os.link
    placed: list[str] = []

    def link(source: str, target_path: str) -> None:
        if len(placed) == 2:
            raise Interrupted(15)
        placed.append(target_path)
        real_link(source, target_path)

    monkeypatch.setattr(os, "link", link)

    with pytest.raises(Interrupted):
        installer(target).install(new_tree, "pkg", True, None)

    assert len(placed) == 2
    assert_old_version_kept(target)


def test_a_failed_fresh_install_keeps_the_library_directory(
    target: FakeTarget, new_tree: UnpackedTree
) -> None:
    """Into an empty environment: placed files and their directories go, ``site-packages`` stays.

    The scheme's ``data`` directory is the environment itself, which holds ``site-packages``:
    emptied directories are removed up to the scheme's directories, never beyond.
    """
    (target.bin / "pkg-cli").mkdir(parents=True)  # in the way of the entry point script
    with pytest.raises(InstallError) as raised:
        installer(target).install(new_tree, "pkg", True, None)
    assert "was kept" not in str(raised.value)
    assert target.site.is_dir()
    assert os.listdir(target.site) == []
    assert os.listdir(target.bin) == ["pkg-cli"]


def test_ignore_installed_replaces_nothing(
    target: FakeTarget, old_tree: UnpackedTree, new_tree: UnpackedTree
) -> None:
    """With ``--ignore-installed`` nothing is replaced: only files in the way are moved."""
    installer(target).install(old_tree, "pkg", True, None)
    installer(target, ignore_installed=True).install(new_tree, "pkg", True, None)
    assert (target.site / "pkg-1.0.dist-info").is_dir()
    assert (target.site / "pkg-2.0.dist-info/RECORD").is_file()
    assert (target.site / "pkg/old.py").is_file()
    assert (target.site / "pkg/__init__.py").read_text() == NEW["pkg/__init__.py"]


def test_a_dist_info_with_license_files_is_replaced(
    target: FakeTarget, old_tree: UnpackedTree, new_tree: UnpackedTree
) -> None:
    """Metadata 2.4 wheels keep license files in ``.dist-info/licenses/``: upgrades work."""
    for tree in (old_tree, new_tree):
        path = f"{Path(tree.record_path).parent}/licenses/LICENSE"
        source = tree.directory / "purelib" / path
        source.parent.mkdir()
        source.write_text("MIT\n")
        tree.files.append(TreeFile("purelib", path, record_hash(source), 4))
        tree.seal()
    installer(target).install(old_tree, "pkg", True, None)
    installer(target).install(new_tree, "pkg", True, None)
    assert_whole(target, "2.0")


def test_libraries_are_the_purelib_and_platlib_directories(target: FakeTarget) -> None:
    """Transactions are kept (and looked for) in both library directories."""
    assert installer(target).libraries() == [target.site, target.site]


def test_write_record_writes_what_installer_writes(target: FakeTarget, tmp_path: Path) -> None:
    """The same bytes as installer's ``finalize_installation``: order, prefixes, quoting."""
    rows = [
        ("purelib", "pkg/b.py", "sha256=bbb", "3"),
        ("scripts", "pkg-cli", "sha256=ccc", "20"),
        ("purelib", 'pkg/a,odd "name".py', "sha256=aaa", "1"),
        ("purelib", "pkg/__pycache__/a.pyc", "", ""),
        ("headers", "pkg/h.h", "sha256=ddd", "4"),
        ("purelib", "pkg-1.0.dist-info/RECORD", "", ""),
    ]
    ours = destination(target, tmp_path / "ours")
    ours.write_record(Scheme("purelib"), "pkg-1.0.dist-info/RECORD", rows)
    theirs = destination(target, tmp_path / "theirs")
    entries = [
        (Scheme(scheme), RecordEntry.from_elements(path, digest, size))
        for scheme, path, digest, size in rows
    ]
    theirs.finalize_installation(Scheme("purelib"), "pkg-1.0.dist-info/RECORD", entries)
    written = (tmp_path / "ours/RECORD").read_bytes()
    assert written == (tmp_path / "theirs/RECORD").read_bytes()
    assert b"/include/pkg/pkg/h.h,sha256=ddd,4\n" in written  # relative to purelib
