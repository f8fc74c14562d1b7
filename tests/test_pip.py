"""pip's error output becomes one line: ``error_summary`` on output captured from real pips.

The samples are pip's output, cut short where the rest does not matter, with paths made
shorter; the full-disk ones were captured with pip 23.0 and pip 26.3 writing into a full
tmpfs.
"""

import pytest

from pip_accel.pip import error_summary

PIP23_FULL_DISK = """\
Looking in links: /data/sources
Processing /data/sources/foo-1.0-py3-none-any.whl
ERROR: Exception:
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/pip/_internal/cli/base_command.py", line 160, in exc_logging_wrapper
    status = run_func(*args)
             ^^^^^^^^^^^^^^^
  File "/venv/lib/python3.11/site-packages/pip/_internal/cli/req_command.py", line 247, in wrapper
    return func(self, options, args)
           ^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/venv/lib/python3.11/site-packages/pip/_internal/commands/download.py", line 144, in run
    preparer.save_linked_requirement(req)
  File "/venv/lib/python3.11/site-packages/pip/_internal/operations/prepare.py", line 608, in save_linked_requirement
    shutil.copy(req.local_file_path, download_location)
  File "/usr/lib/python3.11/shutil.py", line 419, in copy
    copyfile(src, dst, follow_symlinks=follow_symlinks)
  File "/usr/lib/python3.11/shutil.py", line 269, in copyfile
    _fastcopy_sendfile(fsrc, fdst)
  File "/usr/lib/python3.11/shutil.py", line 158, in _fastcopy_sendfile
    raise err from None
  File "/usr/lib/python3.11/shutil.py", line 144, in _fastcopy_sendfile
    sent = os.sendfile(outfd, infd, offset, blocksize)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
OSError: [Errno 28] No space left on device: '/data/sources/foo-1.0-py3-none-any.whl' -> '/data/sources/.incoming-x/foo-1.0-py3-none-any.whl'
"""  # noqa: E501 (pip's lines as they are)

PIP26_FULL_DISK = """\
Collecting purepkg==1.0
  Downloading http://127.0.0.1:8080/packages/purepkg-1.0.tar.gz (1.1 kB)
  Preparing metadata (pyproject.toml): finished with status 'done'
ERROR: Exception:
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/pip/_internal/cli/base_command.py", line 110, in _run_wrapper
    status = _inner_run()
             ^^^^^^^^^^^^
  File "/venv/lib/python3.11/site-packages/pip/_internal/commands/download.py", line 144, in run
    preparer.save_linked_requirement(req)
  File "/venv/lib/python3.11/site-packages/pip/_internal/operations/prepare.py", line 824, in save_linked_requirement
    shutil.copy(req.local_file_path, download_location)
  File "/usr/lib/python3.11/shutil.py", line 144, in _fastcopy_sendfile
    sent = os.sendfile(outfd, infd, offset, blocksize)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
OSError: [Errno 28] No space left on device: '/tmp/pip-unpack-1/purepkg-1.0.tar.gz' -> '/data/sources/.incoming-x/purepkg-1.0.tar.gz'
"""  # noqa: E501 (pip's lines as they are)

CHAINED = """\
ERROR: Exception:
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/pip/_internal/utils/misc.py", line 120, in write
    handle.write(data)
OSError: [Errno 122] Disk quota exceeded

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/pip/_internal/cli/base_command.py", line 110, in _run_wrapper
    status = _inner_run()
OSError: [Errno 28] No space left on device: '/data/sources/.incoming-x'
"""  # noqa: E501 (pip's lines as they are)

PIP23_HEADLINE = """\
Collecting psycopg2==2.9.10
  Downloading psycopg2-2.9.10.tar.gz (385 kB)
  Getting requirements to build wheel: started
  Getting requirements to build wheel: finished with status 'error'
  error: subprocess-exited-with-error

  \N{MULTIPLICATION SIGN} Getting requirements to build wheel did not run successfully.
  \N{BOX DRAWINGS LIGHT VERTICAL} exit code: 1
  \N{BOX DRAWINGS LIGHT ARC UP AND RIGHT}\N{BOX DRAWINGS LIGHT HORIZONTAL}> [2 lines of output]
      Error: pg_config executable not found.
      [end of output]

  note: This error originates from a subprocess, and is likely not a problem with pip.
error: subprocess-exited-with-error

\N{MULTIPLICATION SIGN} Getting requirements to build wheel did not run successfully.
\N{BOX DRAWINGS LIGHT VERTICAL} exit code: 1
\N{BOX DRAWINGS LIGHT ARC UP AND RIGHT}\N{BOX DRAWINGS LIGHT HORIZONTAL}> See above for output.

note: This error originates from a subprocess, and is likely not a problem with pip.
"""

NOT_FOUND = """\
Looking in indexes: http://127.0.0.1:8080/simple/
ERROR: Could not find a version that satisfies the requirement purepkg==9.9 (from versions: 1.0)
ERROR: No matching distribution found for purepkg==9.9
"""


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            PIP23_FULL_DISK,
            "OSError: [Errno 28] No space left on device:"
            " '/data/sources/foo-1.0-py3-none-any.whl'"
            " -> '/data/sources/.incoming-x/foo-1.0-py3-none-any.whl'",
        ),
        (
            PIP26_FULL_DISK,
            "OSError: [Errno 28] No space left on device:"
            " '/tmp/pip-unpack-1/purepkg-1.0.tar.gz'"
            " -> '/data/sources/.incoming-x/purepkg-1.0.tar.gz'",
        ),
    ],
    ids=["pip23", "pip26"],
)
def test_unexpected_exception_is_its_last_line(output: str, expected: str) -> None:
    """pip's report of an exception it did not expect is summed up by the exception itself."""
    assert error_summary(output) == expected


def test_chained_exception_is_the_last_one() -> None:
    """Of chained tracebacks, the last one tells the exception that ended pip."""
    expected = "OSError: [Errno 28] No space left on device: '/data/sources/.incoming-x'"
    assert error_summary(CHAINED) == expected


def test_exception_report_without_traceback_stays() -> None:
    """Without a traceback after it, pip's "Exception:" is all there is to say."""
    assert error_summary("ERROR: Exception:\n") == "Exception:"


def test_error_lines_are_joined() -> None:
    """Every ``ERROR:`` line is kept, in order, without its prefix."""
    assert error_summary(NOT_FOUND) == (
        "Could not find a version that satisfies the requirement purepkg==9.9 (from versions: 1.0)"
        " No matching distribution found for purepkg==9.9"
    )


def test_headline_names_the_requirement_being_collected() -> None:
    """Without ``ERROR:`` lines (pip 23.0), the last headline and the requirement are used."""
    assert error_summary(PIP23_HEADLINE) == (
        "Getting requirements to build wheel did not run successfully."
        " (while collecting psycopg2==2.9.10)"
    )


def test_last_line_without_errors_or_headlines() -> None:
    """Output without error lines or headlines is summed up by its last line."""
    assert error_summary("Collecting purepkg\nKilled\n\n") == "Killed"
    assert error_summary("") == "pip failed without saying why"
