"""An install is a transaction: the old version or the new one is whole at every moment.

Fast unit tests of :mod:`pip_accel.install.transaction` on real files in a temporary directory: a
library directory ``site`` and a scripts directory ``bin`` stand for an environment's
scheme, a distribution ``pkg`` 1.0 is installed there by hand, and the tests replace it with
2.0 the way :class:`pip_accel.install.installer.WheelInstaller` does. A dead run is simulated by
releasing a transaction's lock without closing it. No venv, no pip, no subprocess.
"""

import json
import logging
import os
import threading
import time
from pathlib import Path

import pytest
from filelock import FileLock

from pip_accel.datadir.scratch import LOCK_SUFFIX, PrivateDirectory
from pip_accel.install import transaction as transaction_module
from pip_accel.install.transaction import (
    JOURNAL,
    OLD_STASH_PREFIX,
    PREFIX,
    Journal,
    Transaction,
    environment_lock,
    in_the_way,
    prune_empty_directories,
    recover,
)

TAG = "cpython-311"
"""The cache tag of the bytecode files of these tests (any tag will do)."""

OLD_FILES = {
    "pkg/__init__.py": "VERSION = '1.0'\n",
    "pkg/old.py": "OLD = True\n",
    "pkg/sub/only_old.py": "ONLY = 'old'\n",
}
"""The modules of ``pkg`` 1.0, relative to the library directory."""

NEW_FILES = {
    "pkg/__init__.py": "VERSION = '2.0'\n",
    "pkg/new.py": "NEW = True\n",
    "newtop/deep/mod.py": "DEEP = True\n",
}
"""The modules of ``pkg`` 2.0, relative to the library directory."""


class Environment:
    """A library and a scripts directory, with ``pkg`` 1.0 installed by hand."""

    def __init__(self, root: Path) -> None:
        """Make ``root/site`` and ``root/bin``, and install ``pkg`` 1.0 into them."""
        self.site = root / "site"
        self.bin = root / "bin"
        self.site.mkdir()
        self.bin.mkdir()
        for path, text in OLD_FILES.items():
            write(self.site / path, text)
        write(self.site / "pkg/__pycache__" / f"old.{TAG}.pyc", "bytecode")
        write(self.bin / "pkg-cli", "#!/usr/bin/python\nold script\n")
        self.old_dist_info = self.site / "pkg-1.0.dist-info"
        write(self.old_dist_info / "METADATA", "Name: pkg\nVersion: 1.0\n")
        record = [*OLD_FILES, "../bin/pkg-cli", "pkg-1.0.dist-info/METADATA"]
        record.append("pkg-1.0.dist-info/RECORD")
        write(self.old_dist_info / "RECORD", "".join(f"{path},,\n" for path in record))
        self.new_dist_info = self.site / "pkg-2.0.dist-info"

    @property
    def roots(self) -> list[str]:
        """The scheme directories, as a journal lists them."""
        return [str(self.site), str(self.bin)]

    def planned(self) -> list[str]:
        """Every path that ``pkg`` 2.0 writes outside its ``.dist-info``."""
        return [str(self.site / path) for path in NEW_FILES] + [str(self.bin / "pkg-cli")]

    def journal(self) -> Journal:
        """The journal of the replacement of ``pkg`` 1.0 by 2.0."""
        return Journal(
            new="pkg 2.0",
            old="pkg 1.0",
            dist_info=str(self.new_dist_info),
            roots=self.roots,
            placed=self.planned(),
        )

    def begin(self) -> Transaction:
        """A transaction that replaces ``pkg`` 1.0 by 2.0, with what is in the way stashed."""
        transaction = Transaction.create(self.site, self.journal())
        transaction.stash(
            in_the_way(self.old_dist_info, self.new_dist_info, transaction.journal.placed)
        )
        return transaction

    def place(self, transaction: Transaction) -> None:
        """Place the files of ``pkg`` 2.0, its ``.dist-info`` into the staging directory."""
        for path, text in NEW_FILES.items():
            write(self.site / path, text)
        write(self.bin / "pkg-cli", "#!/usr/bin/python\nnew script\n")
        write(transaction.staging / "METADATA", "Name: pkg\nVersion: 2.0\n")
        write(transaction.staging / "RECORD", "pkg/__init__.py,,\n")

    def assert_old_version(self) -> None:
        """``pkg`` 1.0 is installed as it was, and nothing of 2.0 is left."""
        assert (self.old_dist_info / "METADATA").read_text() == "Name: pkg\nVersion: 1.0\n"
        assert (self.old_dist_info / "RECORD").is_file()
        for path, text in OLD_FILES.items():
            assert (self.site / path).read_text() == text, path
        assert (self.site / "pkg/__pycache__" / f"old.{TAG}.pyc").read_text() == "bytecode"
        assert (self.bin / "pkg-cli").read_text() == "#!/usr/bin/python\nold script\n"
        assert not self.new_dist_info.exists()
        assert not (self.site / "pkg/new.py").exists()
        assert not (self.site / "newtop").exists()

    def leftovers(self) -> list[str]:
        """The names of transaction directories and lock files in the library directory."""
        return sorted(name for name in os.listdir(self.site) if name.startswith(".pip-accel"))


def write(path: Path, text: str) -> None:
    """Write a file, making its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The warnings logged so far."""
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


@pytest.fixture
def env(tmp_path: Path) -> Environment:
    """An environment with ``pkg`` 1.0 installed."""
    return Environment(tmp_path)


def test_the_new_dist_info_appears_only_at_commit(env: Environment) -> None:
    """Until the commit neither version is installed; after it 2.0 is, and 1.0's files are gone."""
    transaction = env.begin()
    env.place(transaction)
    assert not env.old_dist_info.exists()  # moved aside first: 1.0 stopped being installed
    assert not env.new_dist_info.exists()
    assert transaction.directory.is_dir()
    assert Path(f"{transaction.directory}{LOCK_SUFFIX}").is_file()

    transaction.commit()

    assert (env.new_dist_info / "METADATA").read_text() == "Name: pkg\nVersion: 2.0\n"
    assert not env.old_dist_info.exists()
    assert not (env.site / "pkg/old.py").exists()
    assert not (env.site / "pkg/sub").exists()  # emptied by the stash
    assert not (env.site / "pkg/__pycache__").exists()
    assert (env.site / "pkg/__init__.py").read_text() == NEW_FILES["pkg/__init__.py"]
    assert (env.bin / "pkg-cli").read_text() == "#!/usr/bin/python\nnew script\n"
    assert env.leftovers() == []


def test_the_journal_lists_every_move_before_the_files_are_placed(env: Environment) -> None:
    """After the stash the journal on disk is in state ``placing`` and names each hidden path."""
    transaction = env.begin()
    journal = Journal.load(transaction.directory / JOURNAL)
    assert journal is not None
    assert journal.state == "placing"
    assert journal.moved[0] == (str(env.old_dist_info), "old/0")
    for original, hidden in journal.moved:
        assert not Path(original).exists(), original
        assert (transaction.directory / hidden).exists(), hidden
    assert journal.placed == env.planned()
    transaction.roll_back()


def test_a_roll_back_while_placing_restores_the_old_version(env: Environment) -> None:
    """Placed files go, emptied directories go (never the roots), and 1.0 comes back whole."""
    transaction = env.begin()
    env.place(transaction)
    (env.bin / "pkg-cli").unlink()  # the roots must stay even when a roll back empties them

    transaction.roll_back()

    env.assert_old_version()
    assert env.site.is_dir()
    assert env.leftovers() == []


def test_a_roll_back_of_a_fresh_install_keeps_emptied_roots(tmp_path: Path) -> None:
    """With nothing replaced, a roll back removes the placed files and their directories only."""
    site, scripts = tmp_path / "site", tmp_path / "bin"
    site.mkdir()
    journal = Journal(
        new="pkg 2.0",
        old="",
        dist_info=str(site / "pkg-2.0.dist-info"),
        roots=[str(site), str(scripts)],
        placed=[str(site / "pkg/__init__.py"), str(scripts / "pkg-cli")],
    )
    transaction = Transaction.create(site, journal)
    transaction.stash(in_the_way(None, site / "pkg-2.0.dist-info", journal.placed))
    assert journal.moved == []
    write(site / "pkg/__init__.py", "")
    write(scripts / "pkg-cli", "")

    transaction.roll_back()

    assert os.listdir(site) == []
    assert scripts.is_dir()
    assert os.listdir(scripts) == []


def test_a_roll_back_while_stashing_puts_back_what_was_moved(env: Environment) -> None:
    """A stash that fails half way (a file vanished) is undone: what was moved comes back.

    The files after the vanished one were never moved; they are simply left where they are.
    """
    transaction = Transaction.create(env.site, env.journal())
    found = in_the_way(env.old_dist_info, env.new_dist_info, transaction.journal.placed)
    vanished = env.site / "pkg/vanished.py"
    with pytest.raises(FileNotFoundError):
        transaction.stash([*found[:5], vanished, *found[5:]])
    assert transaction.journal.state == "stashing"
    assert not env.old_dist_info.exists()
    assert not (env.site / "pkg/sub").exists()  # pruned after its only file was moved

    transaction.roll_back()

    env.assert_old_version()
    assert not vanished.exists()
    assert env.leftovers() == []


def test_a_roll_back_while_stashing_leaves_new_files_of_others_alone(env: Environment) -> None:
    """In state ``stashing`` nothing was placed: a file at a planned path is not removed."""
    transaction = Transaction.create(env.site, env.journal())
    transaction.stash([])
    transaction.journal.state = "stashing"  # as if killed before the journal said ``placing``
    write(env.site / "pkg/new.py", "someone else's\n")

    transaction.roll_back()

    assert (env.site / "pkg/new.py").read_text() == "someone else's\n"
    assert env.leftovers() == []


def die(transaction: Transaction) -> None:
    """Leave a transaction the way a killed run does: its directory there, its lock free."""
    transaction.lock.release()


def test_recover_finishes_a_committed_transaction(
    env: Environment, caplog: pytest.LogCaptureFixture
) -> None:
    """Killed right after the rename of the ``.dist-info``: the next run only cleans up."""
    transaction = env.begin()
    env.place(transaction)
    os.rename(transaction.staging, env.new_dist_info)
    die(transaction)

    recover([env.site, env.site])  # purelib and platlib are often the same directory

    assert (env.new_dist_info / "METADATA").is_file()
    assert (env.site / "pkg/new.py").read_text() == NEW_FILES["pkg/new.py"]
    assert not env.old_dist_info.exists()
    assert not (env.site / "pkg/old.py").exists()
    assert env.leftovers() == []
    assert warnings(caplog) == [
        f"Repaired the environment ({env.site}): finished installing pkg 2.0."
    ]


def test_recover_rolls_back_a_transaction_killed_before_its_commit(
    env: Environment, caplog: pytest.LogCaptureFixture
) -> None:
    """Killed while placing: the next run removes what was placed and puts 1.0 back, saying so."""
    transaction = env.begin()
    env.place(transaction)
    die(transaction)
    platlib = env.site.parent / "platlib"
    platlib.mkdir()

    recover([platlib, env.site])  # the transaction is in the second library directory

    env.assert_old_version()
    assert env.leftovers() == []
    assert warnings(caplog) == [
        f"Repaired the environment ({env.site}): removed what an interrupted install of"
        " pkg 2.0 had placed; pkg 1.0 is back."
    ]


def test_recover_rolls_back_a_fresh_install_without_naming_an_old_version(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An interrupted install that replaced nothing: its files go, and no version 'is back'."""
    site = tmp_path / "site"
    placed = str(site / "pkg/__init__.py")
    journal = Journal("pkg 2.0", "", str(site / "pkg-2.0.dist-info"), [str(site)], placed=[placed])
    transaction = Transaction.create(site, journal)
    transaction.stash([])
    write(Path(placed), "")
    die(transaction)

    recover([site])

    assert os.listdir(site) == []
    assert warnings(caplog) == [
        f"Repaired the environment ({site}): removed what an interrupted install of pkg 2.0"
        " had placed."
    ]


def test_recover_leaves_the_transaction_of_a_live_run_alone(
    env: Environment, caplog: pytest.LogCaptureFixture
) -> None:
    """While its run holds the lock, a transaction is neither finished nor rolled back."""
    transaction = env.begin()
    env.place(transaction)

    recover([env.site])

    assert transaction.directory.is_dir()
    assert transaction.staging.is_dir()
    assert (env.site / "pkg/new.py").is_file()
    assert warnings(caplog) == []
    transaction.roll_back()
    env.assert_old_version()


def test_recover_removes_a_transaction_directory_without_a_journal(
    env: Environment, caplog: pytest.LogCaptureFixture
) -> None:
    """Killed before the journal was written, nothing was moved: the directory simply goes."""
    private = PrivateDirectory(env.site, PREFIX)
    (private.path / "stray").write_text("")
    private.lock.release()

    recover([env.site])

    assert env.leftovers() == []
    assert warnings(caplog) == []
    env.assert_old_version()


def test_recover_removes_an_old_format_stash_with_a_warning(
    env: Environment, caplog: pytest.LogCaptureFixture
) -> None:
    """pip-accel 1.0's stash has no journal: it is removed, and the warning says so."""
    stash = env.site / f"{OLD_STASH_PREFIX}abc123"
    write(stash / "pkg/__init__.py", "")

    recover([env.site])

    assert not stash.exists()
    assert warnings(caplog) == [
        f"Removed {stash}, the files of a distribution that pip-accel 1.0 was replacing when"
        " it was interrupted; they cannot be put back."
    ]


def test_recover_skips_a_missing_library_directory(tmp_path: Path) -> None:
    """A scheme directory that does not exist (yet) is no error."""
    recover([tmp_path / "missing"])
    assert not (tmp_path / "missing").exists()


def test_a_damaged_journal_loads_as_none(tmp_path: Path) -> None:
    """A journal that is not JSON, lacks a field or has an unknown one is None, not an error."""
    path = tmp_path / JOURNAL
    assert Journal.load(path) is None
    path.write_text("{")
    assert Journal.load(path) is None
    path.write_text(json.dumps({"new": "pkg 2.0"}))
    assert Journal.load(path) is None
    good = {"new": "a", "old": "", "dist_info": "/x", "roots": [], "moved": [["/a", "old/0"]]}
    path.write_text(json.dumps({**good, "extra": 1}))
    assert Journal.load(path) is None
    path.write_text(json.dumps(good))
    assert Journal.load(path) == Journal("a", "", "/x", [], moved=[("/a", "old/0")])


def test_in_the_way_lists_the_old_dist_info_first_then_its_files(env: Environment) -> None:
    """The ``.dist-info`` first, then RECORD's files and their bytecode, then other planned files.

    A directory at a planned path is not listed, and the files of a moved ``.dist-info`` are
    not listed on their own.
    """
    write(env.site / "newtop/deep/mod.py", "a stray file where 2.0 writes\n")
    (env.site / "pkg/new.py").mkdir()  # a directory at a planned path
    found = in_the_way(env.old_dist_info, env.new_dist_info, env.planned())
    assert found == [
        env.old_dist_info,
        env.site / "pkg/__init__.py",
        env.site / "pkg/old.py",
        env.site / "pkg/__pycache__" / f"old.{TAG}.pyc",
        env.site / "pkg/sub/only_old.py",
        env.bin / "pkg-cli",
        env.site / "newtop/deep/mod.py",
    ]


def test_in_the_way_moves_a_dist_info_at_the_new_name_as_a_whole(env: Environment) -> None:
    """A reinstall of the same version: the ``.dist-info`` is listed once, its files not at all."""
    write(env.new_dist_info / "METADATA", "Name: pkg\nVersion: 2.0\n")
    write(env.new_dist_info / "RECORD", "pkg-2.0.dist-info/METADATA,,\n")
    found = in_the_way(env.new_dist_info, env.new_dist_info, [])
    assert found == [env.new_dist_info]


def test_in_the_way_skips_recorded_files_that_are_gone(env: Environment) -> None:
    """RECORD may list files that were removed by hand: only existing ones are listed."""
    (env.site / "pkg/old.py").unlink()
    (env.bin / "pkg-cli").unlink()
    found = in_the_way(env.old_dist_info, env.new_dist_info, [])
    assert env.site / "pkg/old.py" not in found
    assert env.bin / "pkg-cli" not in found
    assert env.site / "pkg/__init__.py" in found


def test_in_the_way_without_an_installed_version_lists_existing_planned_files(
    env: Environment,
) -> None:
    """Nothing installed (or ``--ignore-installed``): only files at planned paths are in the way."""
    assert in_the_way(None, env.new_dist_info, env.planned()) == [
        env.site / "pkg/__init__.py",
        env.bin / "pkg-cli",
    ]


def test_a_dist_info_with_a_licenses_directory_can_be_replaced(env: Environment) -> None:
    """Metadata 2.4 puts license files into ``.dist-info/licenses/``; RECORD lists them."""
    write(env.old_dist_info / "licenses/LICENSE", "MIT\n")
    record = env.old_dist_info / "RECORD"
    record.write_text(record.read_text() + "pkg-1.0.dist-info/licenses/LICENSE,,\n")
    found = in_the_way(env.old_dist_info, env.new_dist_info, env.planned())
    transaction = Transaction.create(env.site, env.journal())
    try:
        transaction.stash(found)
    except BaseException:
        transaction.roll_back()
        raise
    env.place(transaction)
    transaction.commit()
    assert not env.old_dist_info.exists()
    assert env.new_dist_info.is_dir()


def test_prune_empty_directories_stops_at_the_roots(tmp_path: Path) -> None:
    """Emptied directories go up to a root; the root and everything above it stay."""
    root = tmp_path / "site"
    (root / "a/b/c").mkdir(parents=True)
    prune_empty_directories(root / "a/b/c", [str(root)])
    assert os.listdir(root) == []
    prune_empty_directories(root, [str(root)])
    assert root.is_dir()


def test_prune_empty_directories_stops_at_a_root_inside_another_root(tmp_path: Path) -> None:
    """The scheme's ``data`` is the environment itself: an emptied ``site-packages`` stays."""
    site = tmp_path / "env/lib/python3.11/site-packages"
    (site / "pkg").mkdir(parents=True)
    prune_empty_directories(site / "pkg", [str(tmp_path / "env"), str(site)])
    assert site.is_dir()
    assert os.listdir(site) == []


def test_prune_empty_directories_stops_at_a_non_empty_directory(tmp_path: Path) -> None:
    """A directory with anything left in it stays, and so do its parents."""
    root = tmp_path / "site"
    (root / "a/b/c").mkdir(parents=True)
    (root / "a/keep.py").write_text("")
    prune_empty_directories(root / "a/b/c", [str(root)])
    assert not (root / "a/b").exists()
    assert (root / "a/keep.py").is_file()


def test_prune_empty_directories_never_leaves_the_roots(tmp_path: Path) -> None:
    """A directory that is not below any root is not removed, even when empty."""
    (tmp_path / "elsewhere/empty").mkdir(parents=True)
    (tmp_path / "site").mkdir()
    prune_empty_directories(tmp_path / "elsewhere/empty", [str(tmp_path / "site")])
    assert (tmp_path / "elsewhere/empty").is_dir()
    (tmp_path / "site-other/x").mkdir(parents=True)  # a name that only starts like a root
    prune_empty_directories(tmp_path / "site-other/x", [str(tmp_path / "site")])
    assert (tmp_path / "site-other/x").is_dir()


def test_environment_lock_makes_runs_take_turns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A second run into the same library waits, saying so, until the first one is done."""
    caplog.set_level(logging.INFO, logger="pip_accel.install.transaction")
    locks, library = tmp_path / "locks", tmp_path / "site"
    entered = threading.Event()

    def second_run() -> None:
        with environment_lock(locks, library):
            entered.set()

    with environment_lock(locks, library):
        thread = threading.Thread(target=second_run)
        thread.start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
            "Waiting for another" in record.getMessage() for record in caplog.records
        ):
            time.sleep(0.01)
        assert not entered.wait(0.2)
    thread.join(5)
    assert entered.is_set()
    waiting = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Waiting")]
    assert waiting == [f"Waiting for another pip-accel run that installs into {library}."]


def test_environment_lock_is_per_library(tmp_path: Path) -> None:
    """Runs into other libraries do not wait; the lock is free again after the block."""
    locks = tmp_path / "locks"
    with environment_lock(locks, tmp_path / "one"), environment_lock(locks, tmp_path / "two"):
        assert len(list(locks.glob("environment-*.lock"))) == 2
    for lock_file in locks.glob("environment-*.lock"):
        probe = FileLock(str(lock_file))
        probe.acquire(timeout=0)  # raises Timeout if the block had kept it
        probe.release()


def test_in_the_way_lists_no_directory_inside_a_missing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file in the way is found at any depth; nothing inside a missing directory is listed."""
    site = tmp_path / "site"
    (site / "old/sub").mkdir(parents=True)
    (site / "old/sub/mod.py").write_text("")
    planned = [
        f"{site}/old/sub/mod.py",
        f"{site}/new/a.py",
        f"{site}/new/sub/b.py",
        f"{site}/new/sub/deeper/c.py",
        f"{site}/new/no-files/deeper/d.py",
    ]
    listed: list[str] = []
    real_listdir = os.listdir

    def listdir(path: str) -> list[str]:
        listed.append(path)
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", listdir)
    found = in_the_way(None, site / "pkg-2.0.dist-info", planned)
    assert found == [site / "old/sub/mod.py"]
    assert listed == [f"{site}/new", f"{site}/old/sub"]


def test_with_nothing_in_the_way_the_journal_is_written_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into a new environment: one journal, already ``placing``, and no directory of old files."""
    site = tmp_path / "site"
    site.mkdir()
    journal = Journal(
        new="pkg 2.0", old="", dist_info=str(site / "pkg-2.0.dist-info"), roots=[str(site)],
        placed=[str(site / "pkg/__init__.py")],
    )  # fmt: skip
    written: list[str] = []
    monkeypatch.setattr(
        transaction_module, "write_atomically", lambda path, data: written.append(data.decode())
    )
    transaction = Transaction.create(site, journal)
    transaction.stash(in_the_way(None, site / "pkg-2.0.dist-info", journal.placed))
    assert [json.loads(data)["state"] for data in written] == ["placing"]
    assert sorted(os.listdir(transaction.directory)) == ["dist-info"]
