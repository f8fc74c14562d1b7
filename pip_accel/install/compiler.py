"""Compiling the modules of trees with the target interpreter, in batches, while more unpack.

The target's own interpreter runs ``_compile.py`` (by its path) and reports each batch
it compiled, so that a tree is published as soon as its bytecode is there.
"""

import contextlib
import json
import logging
import subprocess
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from pip_accel.environment import TargetEnvironment
from pip_accel.interrupts import child
from pip_accel.workers import workers

logger = logging.getLogger(__name__)


COMPILE_SCRIPT = Path(__file__).with_name("_compile.py")
"""The script the target interpreter runs to compile (by its path: importing it here would
load multiprocessing into every warm run)."""


class Compiler:
    """The target interpreter compiling modules to bytecode, on the free cores, while they come."""

    def __init__(
        self,
        target: TargetEnvironment,
        on_compiled: Callable[[str], None],
        processes: int | None = None,
    ) -> None:
        """Compile for ``target``, with its own interpreter; call ``on_compiled`` per batch.

        ``processes`` compile at once (by default as many as :func:`pip_accel.workers.workers`
        says the machine can give).
        """
        count = processes or workers()
        self.command = [target.executable, "-I", str(COMPILE_SCRIPT), str(count)]
        self.on_compiled = on_compiled
        self.process: subprocess.Popen[str] | None = None
        self.reader: threading.Thread | None = None
        self.failures: list[BaseException] = []
        self.stack = contextlib.ExitStack()
        self.lock = threading.Lock()
        self.waiting = threading.Condition()
        self.backlog = 0
        """How many modules were handed in and are not compiled yet."""
        self.sizes: dict[str, int] = {}
        self.ended = False

    def __enter__(self) -> "Compiler":
        """Start the compiling process, and a thread that reads which batches are done."""
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stack.enter_context(child(self.process))
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        return self

    def _read(self) -> None:
        """Hand each batch that is compiled to ``on_compiled``."""
        assert self.process is not None and self.process.stdout is not None
        try:
            for line in self.process.stdout:
                name = line.rstrip("\n")
                with self.waiting:
                    self.backlog -= self.sizes.pop(name, 0)
                    self.waiting.notify_all()
                try:
                    self.on_compiled(name)
                except BaseException as error:  # handed to the main thread in __exit__
                    self.failures.append(error)
        finally:
            with self.waiting:
                self.ended = True
                self.waiting.notify_all()

    def wait_for_backlog(self, limit: int) -> None:
        """Wait while more than ``limit`` modules wait to be compiled (or until it ended)."""
        with self.waiting:
            while self.backlog > limit and not self.ended:
                self.waiting.wait()

    def add(self, name: str, paths: Iterable[Path]) -> None:
        """Have a batch of modules compiled; ``name`` is reported when all of them are."""
        assert self.process is not None and self.process.stdin is not None
        modules = [str(path) for path in paths]
        line = json.dumps([name, modules])
        with self.waiting:
            self.sizes[name] = self.sizes.get(name, 0) + len(modules)
            self.backlog += len(modules)
        with self.lock, contextlib.suppress(BrokenPipeError):  # ended early: __exit__ says why
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()

    def __exit__(self, *exc_info: object) -> None:
        """Wait until every module is compiled; warn when compiling failed."""
        assert self.process is not None and self.process.stdin is not None
        with self.stack:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
            assert self.process.stderr is not None and self.process.stdout is not None
            with self.process.stderr:
                errors = self.process.stderr.read()
            self.process.wait()
            if self.reader is not None:
                self.reader.join()
            self.process.stdout.close()
        if self.failures:
            raise self.failures[0]
        if self.process.returncode != 0 and exc_info[0] is None:
            reason = (errors.strip().splitlines() or ["no output"])[-1]
            logger.warning(
                "Compiling bytecode failed (%s); Python compiles it when imported.", reason
            )
