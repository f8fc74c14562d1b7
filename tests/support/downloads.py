"""Stand-ins for the downloads' collaborators: a pip that answers from a script, and pip's
finder over a directory of archives (both run nothing and touch no network)."""

from collections.abc import Callable, Sequence
from pathlib import Path

from pip_accel.exceptions import PipFailedError
from pip_accel.pip.runner import Pip
from pip_accel.sources.listing import Listing
from pip_accel.sources.pip_finder import RemoteArchive

from support.fixtures import make_sdist, pyproject

#: What a scripted pip does with one command: write files into ``dest``, or raise.
Answer = Callable[[Path], None]


class ScriptedPip(Pip):
    """A pip that answers each command with the next of ``answers``, and records them."""

    def __init__(self, answers: Sequence[Answer]) -> None:
        """Answer the commands in this order; a command beyond them downloads nothing."""
        super().__init__(None)
        self.answers = list(answers)
        self.commands: list[list[str]] = []

    def run(
        self, args: Sequence[str], env: dict[str, str] | None = None, spinner: str | None = None
    ) -> str:
        """Record ``args``; let the next answer fill the ``--dest`` (or ``--wheel-dir``) directory
        or fail."""
        self.commands.append(list(args))
        option = "--wheel-dir" if args[0] == "wheel" else "--dest"
        dest = Path(args[list(args).index(option) + 1])
        if self.answers:
            self.answers.pop(0)(dest)
        return ""


def fails(output: str) -> Answer:
    """An answer that fails the way pip does, with ``output``."""

    def answer(dest: Path) -> None:
        raise PipFailedError("pip failed", output)

    return answer


def writes(*archives: Path) -> Answer:
    """An answer that downloads copies of ``archives``."""

    def answer(dest: Path) -> None:
        for archive in archives:
            (dest / archive.name).write_bytes(archive.read_bytes())

    return answer


def sdist(tmp_path: Path, name: str, requires: Sequence[str] = ("flit_core>=3.4",)) -> Path:
    """A small sdist whose pyproject.toml asks for ``requires`` to build it."""
    files = {"pyproject.toml": pyproject(name, "1.0", build=(requires, "flit_core.buildapi"))}
    return make_sdist(tmp_path / "made", name, "1.0", files)


class StandInIndex:
    """pip's finder and session, stood in for: archives by pin, from a directory."""

    def __init__(self, archives: dict[tuple[str, str], Path], options: Sequence[str]) -> None:
        """Find these archives; remember the pip options it was made with."""
        self.archives = archives
        self.options = list(options)
        self.closed = False

    def find(self, name: str, version: str) -> RemoteArchive | None:
        """The archive of a pin, or None."""
        path = self.archives.get((name, version))
        return RemoteArchive(path.as_uri(), path.name) if path else None

    def fetch(self, archive: RemoteArchive, directory: Path) -> Path:
        """Copy the archive into ``directory``."""
        source = Path(archive.url.removeprefix("file://"))
        target = directory / archive.filename
        target.write_bytes(source.read_bytes())
        return target

    def listing(self, name: str) -> Listing:
        """The versions of the archives of ``name``; a name with ``broken`` fails."""
        if "broken" in name:
            raise OSError("connection reset")
        return Listing(tuple(sorted(version for found, version in self.archives if found == name)))

    def close(self) -> None:
        """Remember that it was closed."""
        self.closed = True
