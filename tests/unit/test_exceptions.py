"""Unit tests of ``pip_accel.exceptions``: what each error carries and how they are grouped.

The command line reports every :class:`PipAcceleratorError` as one line, and the binary
cache treats the :class:`CacheError` family in three ways, so the hierarchy is behaviour.
"""

import pytest

from pip_accel.exceptions import (
    BuildError,
    CacheError,
    CacheWriteRefusedError,
    ChangedTreeFileError,
    ConfigurationError,
    CorruptObjectError,
    DamagedTreeError,
    DefinitionError,
    DownloadError,
    EnvironmentProbeError,
    InstallError,
    MissingSystemPackagesError,
    PipAcceleratorError,
    PipFailedError,
    SystemDependencyError,
    SystemPackageInstallError,
    UnsafeWheelError,
)


def test_pip_failure_keeps_pips_output_and_code() -> None:
    """The message is pip's error; the output and exit code travel with it."""
    error = PipFailedError("No matching distribution", output="...\nERROR: x\n", returncode=2)
    assert str(error) == "No matching distribution"
    assert (error.output, error.returncode) == ("...\nERROR: x\n", 2)
    assert (PipFailedError("m").output, PipFailedError("m").returncode) == ("", 1)


def test_build_error_names_the_project() -> None:
    """A failed build says which project failed, besides pip's output."""
    error = BuildError("failed", "out", 1, project="psycopg2")
    assert (error.project, error.output, error.returncode) == ("psycopg2", "out", 1)
    assert BuildError("failed").project == ""


@pytest.mark.parametrize(
    ("error", "parent"),
    [
        (ConfigurationError, PipAcceleratorError),
        (EnvironmentProbeError, PipAcceleratorError),
        (DownloadError, PipFailedError),
        (BuildError, PipFailedError),
        (UnsafeWheelError, InstallError),
        (DamagedTreeError, InstallError),
        (ChangedTreeFileError, DamagedTreeError),
        (CorruptObjectError, CacheError),
        (CacheWriteRefusedError, CacheError),
        (DefinitionError, SystemDependencyError),
        (MissingSystemPackagesError, SystemDependencyError),
        (SystemPackageInstallError, SystemDependencyError),
        (SystemDependencyError, PipAcceleratorError),
        (CacheError, PipAcceleratorError),
    ],
)
def test_every_error_is_reported_as_pip_accels(
    error: type[PipAcceleratorError], parent: type[Exception]
) -> None:
    """Each error belongs to its family, and every family to PipAcceleratorError."""
    assert issubclass(error, parent)
    assert issubclass(error, PipAcceleratorError)
