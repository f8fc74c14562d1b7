"""The ``pip-accel`` command: pip's command line in, an accelerated install out.

pip's own parsers read the command line, so everything pip accepts is
accepted and everything it rejects is rejected with pip's message (exit code
2). ``install`` runs through :class:`~pip_accel.accelerator.PipAccelerator`,
``cache`` through :mod:`pip_accel.cli.cache_command`, help (``help``, ``-h``,
no arguments) through :mod:`pip_accel.cli.help`; every other subcommand
runs pip itself and keeps pip's exit code. Expected
failures end in one line and exit code 1; ``-v`` adds the traceback.
"""

import io
import logging
import optparse
import os
import re
import signal
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import coloredlogs

from pip_accel import __version__
from pip_accel.accelerator import PipAccelerator, StoredPlanOnly
from pip_accel.cli.fast_start import Start, StartRecords
from pip_accel.cli.repeats import Repeats
from pip_accel.cli.write_failures import explain_write_failure
from pip_accel.config import DEFAULT_LOG_FORMAT, Config
from pip_accel.environment import active_environment
from pip_accel.exceptions import BuildError, CacheUsageError, HandOver, PipAcceleratorError
from pip_accel.interrupts import AfterInterruption, install_handlers, note_interruption
from pip_accel.parts import InstallParts, make_request
from pip_accel.pip.command_line import (
    CommandLine,
    config_files,
    general_dests,
    parse_install,
    split_command,
)
from pip_accel.pip.commands import HANDED_OVER, INDEX_ONLY, whole_install
from pip_accel.pip.lock_files import lock_handed_over
from pip_accel.pip.output import BUILD_FAILED
from pip_accel.pip.runner import pass_through, pip_version
from pip_accel.report.progress import Progress

logger = logging.getLogger("pip_accel")


def main(argv: Sequence[str] | None = None) -> int:
    """Run pip-accel with ``argv`` (default: the process's arguments); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    repeats = Repeats()
    started = warm_start(args, repeats)
    if started is not None:
        return started
    general, rest = split_command(args)
    if general.version:
        sys.stdout.write(f"pip-accel {__version__} (pip {pip_version()})\n")
        return 0
    if general.help or not rest or rest[0] == "help":
        return show_help(rest[1:], general)
    if rest[0] == "cache":
        return run_cache(rest[1:], (general.verbose or 0) - (general.quiet or 0))
    if rest[0] != "install":
        return pass_through(args, active_environment(general.python, os.environ))
    install_handlers()
    return run_install(args, repeats)


def show_help(words: list[str], general: optparse.Values) -> int:
    """Print the help that ``help WORDS`` (or ``--help``, or nothing) asks for (exit code 0).

    A command pip does not know goes to pip's own ``help``, which says so
    (and the exit code is pip's).
    """
    from pip_accel.cli.help import print_command_help, print_general_help

    if general.help:
        print_general_help()
        return 0
    if print_command_help(words):
        return 0
    return pass_through(["help", *words], active_environment(general.python, os.environ))


def warm_start(args: list[str], repeats: Repeats | None = None) -> int | None:
    """Run an install whose command line a kept start gives (:mod:`pip_accel.cli.fast_start`).

    None when there is none, or when no fresh stored plan answers it: the run
    then starts again on the normal path, with pip's parser, and ``repeats``
    keeps it from saying again what the warm start said.
    """
    if "install" not in args:
        return None
    try:
        records = StartRecords(Config().start_cache)
    except PipAcceleratorError:
        return None  # the normal path says what is wrong
    start = records.load(args, os.environ, os.getcwd())
    if start is None:
        return None
    install_handlers()
    handlers = list(logger.handlers)
    code = run_command_line(args, start.command_line, start, repeats)
    if code is None:  # the normal path sets up its own logging
        logger.handlers[:] = handlers
        if repeats is not None:
            repeats.fell_back()
    return code


def run_install(args: list[str], repeats: Repeats | None = None) -> int:
    """Parse an install command line with pip's parser and run it (``repeats``: the lines
    a warm start said before it fell back, not to be said again)."""
    position = args.index("install")
    command_line = parse_install(args[:position] + args[position + 1 :])
    code = run_command_line(args, command_line, repeats=repeats)
    assert code is not None  # only a warm start gives none
    return code


def run_command_line(
    args: list[str],
    command_line: CommandLine,
    start: Start | None = None,
    repeats: Repeats | None = None,
) -> int | None:
    """Run an install command line (``args`` as ``command_line``, or as a warm ``start`` kept it).

    Returns None when a warm start found no stored plan (nothing was changed).
    """
    verbosity = (command_line.options.verbose or 0) - (command_line.options.quiet or 0)
    config: Config | None = None
    # A live progress line on a terminal, but not with -q, nor with -v (pip's output streams).
    progress = Progress(sys.stderr, live=verbosity == 0 and sys.stderr.isatty())
    try:
        setup_logging(DEFAULT_LOG_FORMAT, "INFO", verbosity, progress.stream, repeats)
        config = Config()
        config.validate()
        check_keys(config)
        setup_logging(config.log_format, config.log_verbosity, verbosity, progress.stream, repeats)
        reason = _handed_over(command_line)
        if reason and start is None:
            logger.info("Handing the whole command to pip: %s.", reason)
            return hand_over(command_line)
        if reason:
            return None
        with progress:
            plan_kept = accelerate(config, command_line, verbosity, progress, start)
        if start is None and plan_kept:
            keep_start(config, args, command_line)
    except StoredPlanOnly:
        return None
    except HandOver as reason:
        if start is not None:  # the normal path hands it over, with pip's own parse
            return None
        logger.info("Handing the whole command to pip: %s.", reason)
        return hand_over(command_line)
    except PipAcceleratorError as error:
        logger.debug("Traceback:", exc_info=True)
        show_build_output(error)
        logger.error("%s", error)
        return 1
    except OSError as error:
        data = config.settled_data_directory if config else None
        explanation = explain_write_failure(error, data)
        if explanation is None:
            raise
        logger.debug("Traceback:", exc_info=True)
        logger.error("%s", explanation)
        return 1
    except KeyboardInterrupt as interruption:
        note_interruption()  # the line below stays the last one (AfterInterruption)
        signum = getattr(interruption, "signum", signal.SIGINT)
        logger.error(
            "Interrupted by %s; what was half done is undone.", signal.Signals(signum).name
        )
        return 128 + signum
    return 0


def run_cache(args: list[str], verbosity: int) -> int:
    """Run ``pip-accel cache`` (the words after ``cache``); return its exit code.

    A wrong command line exits with 2, as pip's usage errors do; a command
    that cannot do its work, with 1. Either is one line (``-v``: and the traceback).
    """
    from pip_accel.cli import cache_command, cache_request

    try:
        setup_logging(DEFAULT_LOG_FORMAT, "INFO", verbosity)
        request = cache_request.parse(args)
        config = Config()
        config.validate()
        check_keys(config)
        setup_logging(config.log_format, config.log_verbosity, verbosity + request.verbosity)
        return cache_command.run(config, request, sys.stdout, time.time())
    except CacheUsageError as error:
        logger.error("%s", error)
        return 2
    except PipAcceleratorError as error:
        logger.debug("Traceback:", exc_info=True)
        logger.error("%s", error)
        return 1
    except KeyboardInterrupt:
        logger.error("Interrupted; what was removed so far stays removed.")
        return 128 + signal.SIGINT


def check_keys(config: Config) -> None:
    """Read the keys of an S3 cache now, so that a bad one stops pip-accel before any work.

    Keys set without a bucket (say, in ``/etc/pip-accel.conf``) cost nothing: S3
    is off, so neither the keys nor cryptography are read.
    """
    if config.s3_bucket and (config.s3_signing_key or config.s3_trusted_keys):
        from pip_accel.caches import signing  # cryptography only when keys are used

        signing.check_keys(config)


def accelerate(
    config: Config,
    command_line: CommandLine,
    verbosity: int,
    progress: Progress | None = None,
    start: Start | None = None,
) -> bool:
    """Run the accelerated install for the chosen target, counting its work in ``progress``.

    Returns whether a stored plan answered, or the plan made was stored.

    With a warm ``start``, only a fresh stored plan may answer (else
    :class:`StoredPlanOnly`), and pip's general options come from it.
    """
    general = start.general if start else general_tokens(command_line)
    parts = InstallParts(make_request(config, command_line, verbosity, general), progress)
    return PipAccelerator(parts, stored_only=start is not None).install().plan_kept


def general_tokens(command_line: CommandLine) -> list[str]:
    """The tokens of pip's general options that every pip command of the run is given."""
    return command_line.tokens(general_dests(), {"python", "version", "help"})


def keep_start(config: Config, args: list[str], command_line: CommandLine) -> None:
    """Keep what pip's parser made of ``args``, for the next warm start of the same install."""
    if command_line.options.dry_run or command_line.options.target_dir:
        return
    start = Start(command_line, general_tokens(command_line))
    StartRecords(config.start_cache).store(args, os.environ, os.getcwd(), start, config_files())


def hand_over(command_line: CommandLine) -> int:
    """Run the whole install command with pip; return pip's exit code.

    pip-accel takes ``--python`` after the word ``install`` too, pip only
    before it, so the command is written anew with ``--python`` in front.
    """
    python = command_line.options.python
    target = Path(python) if python else active_environment(None, os.environ)
    return pass_through(whole_install(command_line), target)


def show_build_output(error: PipAcceleratorError) -> None:
    """Show the output of a build that pip ran and that failed (unless shown already)."""
    output = getattr(error, "output", "")
    if output and BUILD_FAILED in output and not isinstance(error, BuildError):
        logger.error("pip failed to build a distribution; its output follows:\n%s", output.rstrip())


def _handed_over(command_line: CommandLine) -> str | None:
    """Why the whole command goes to pip unchanged, or None."""
    for dest, reason in HANDED_OVER.items():
        if command_line.given(dest):
            return reason
    for dest, reason in INDEX_ONLY.items():
        if getattr(command_line.options, dest, None):
            return reason
    return lock_handed_over(command_line, pip_version())


def setup_logging(
    fmt: str,
    level_name: str,
    verbosity: int,
    stream: TextIO | io.TextIOBase | None = None,
    repeats: Repeats | None = None,
) -> None:
    """Log to standard error in ``fmt`` at ``level_name``, adjusted by ``-v`` and ``-q``.

    Python's warnings (of the libraries pip-accel uses) become log lines too,
    so that they look like the others and ``-q`` hides them. After an
    interruption only the main thread logs (:class:`AfterInterruption`); with
    ``repeats``, what a warm start said is said once (:mod:`pip_accel.cli.repeats`).
    """
    level = logging.getLevelName(level_name) - 10 * verbosity
    coloredlogs.install(
        level=max(logging.DEBUG, min(logging.CRITICAL, level)),
        fmt=fmt,
        logger=logger,
        stream=stream or sys.stderr,
    )
    for handler in logger.handlers:
        if not any(isinstance(known, AfterInterruption) for known in handler.filters):
            handler.addFilter(AfterInterruption())
        if repeats is not None and repeats not in handler.filters:
            handler.addFilter(repeats)
    warnings.showwarning = log_warning


UNINFORMATIVE = ((RuntimeWarning, re.compile(r"Skip installing \S*__pycache__/\S* from ")),)
"""Library warnings that tell the user nothing they can act on: each category and message.

installer leaves out the ``__pycache__`` files that a wheel ships (numpy's do),
as it should, and says so at every unpacking of such a wheel."""


def uninformative(message: Warning | str, category: type[Warning]) -> bool:
    """Whether a warning is one of :data:`UNINFORMATIVE`, which belong in the debug log."""
    text = str(message)
    return any(
        issubclass(category, kind) and pattern.match(text) for kind, pattern in UNINFORMATIVE
    )


def log_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Log a Python warning at WARNING, in place of :func:`warnings.showwarning`.

    Python would print the warning with the line of source that raised it,
    which tells the user nothing; the place goes to the debug log instead.
    A warning of :data:`UNINFORMATIVE` goes to the debug log whole.
    """
    warnings_logger = logger.getChild("warnings")
    level = logging.DEBUG if uninformative(message, category) else logging.WARNING
    warnings_logger.log(level, "%s: %s", category.__name__, message)
    warnings_logger.debug("The warning above was raised at %s, line %d.", filename, lineno)


if __name__ == "__main__":
    sys.exit(main())
