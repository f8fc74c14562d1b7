"""Compile the modules of each tree named on standard input, in parallel, as they come.

pip-accel runs this file with the *target* interpreter (the bytecode is for
its version), so it uses nothing but the standard library and runs on any
Python 3 pip supports. Each line of standard input is ``[name, [paths]]``;
once every module of one is compiled, its name is written to standard
output, so that pip-accel can publish that tree while the others compile.
The first argument, if given, is how many worker processes compile (pip-accel
gives the cores the machine has free); else one per core.

The modules go to the worker processes in chunks, not one by one: handing
over a module costs about as much as compiling a small one. The workers run
functions of this file, which works with every start method of
:mod:`multiprocessing` (a script given with ``-c`` would not, under spawn or
forkserver, the default of Python 3.14).
"""

from __future__ import annotations

import compileall
import json
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial

CHUNK = 16
"""How many modules a worker gets at once."""


def compile_files(paths: list[str]) -> None:
    """Compile modules to bytecode for this interpreter (failures are left for import time)."""
    for path in paths:
        compileall.compile_file(path, force=True, quiet=2)


def chunks(paths: list[str], size: int = CHUNK) -> list[list[str]]:
    """The paths in consecutive chunks of at most ``size``."""
    return [paths[start : start + size] for start in range(0, len(paths), size)]


class Reporter:
    """Writes the name of each batch once all its chunks are compiled (from any thread)."""

    def __init__(self) -> None:
        """Nothing reported yet."""
        self.lock = threading.Lock()
        self.left: dict[str, int] = {}

    def expect(self, name: str, count: int) -> None:
        """``name`` is done after ``count`` chunks; at once when there are none."""
        if count:
            with self.lock:
                self.left[name] = self.left.get(name, 0) + count
        else:
            self.report(name)

    def done(self, name: str) -> None:
        """One chunk of ``name`` is compiled."""
        with self.lock:
            self.left[name] -= 1
            last = self.left[name] == 0
        if last:
            self.report(name)

    def report(self, name: str) -> None:
        """Tell pip-accel that ``name`` is compiled."""
        with self.lock:
            sys.stdout.write(name + "\n")
            sys.stdout.flush()


def main() -> None:
    """Compile the batches of standard input until it ends."""
    reporter = Reporter()
    with ProcessPoolExecutor(processes(sys.argv[1:])) as pool:
        for line in sys.stdin:
            name, paths = json.loads(line)
            parts = chunks(paths)
            reporter.expect(name, len(parts))
            for part in parts:
                future = pool.submit(compile_files, part)
                future.add_done_callback(partial(chunk_done, reporter, name))


def processes(args: list[str]) -> int | None:
    """How many worker processes the command line asks for (None: one per core)."""
    return max(1, int(args[0])) if args else None


def chunk_done(reporter: Reporter, name: str, future: Future[None]) -> None:
    """A chunk's future ended (compiled, or failed: then Python compiles at import time)."""
    reporter.done(name)


if __name__ == "__main__":
    main()
