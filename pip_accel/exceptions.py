"""The exceptions of pip-accel, each with a message meant for people.

Every error that pip-accel expects to happen (bad configuration, a failing
pip, a failing build, an unsafe wheel) is a subclass of
:class:`PipAcceleratorError`. The command line reports those as one line and
exit code 1; anything else is a bug and shows a traceback.
"""


class PipAcceleratorError(Exception):
    """The root of every error that pip-accel reports to its user."""


class ConfigurationError(PipAcceleratorError):
    """A configuration value, file or directory is unusable."""


class SigningKeyError(ConfigurationError):
    """A signing key or trusted public key is missing or unusable (or cryptography is missing)."""


class EnvironmentProbeError(PipAcceleratorError):
    """The target interpreter could not be found or inspected."""


class PipFailedError(PipAcceleratorError):
    """A pip subprocess exited with an error.

    The message is pip's own error text (its last ``ERROR:`` lines) so the
    user reads what pip said, not what pip-accel guessed.
    """

    def __init__(self, message: str, output: str = "", returncode: int = 1) -> None:
        """Remember pip's output and exit code next to the message."""
        super().__init__(message)
        self.output = output
        self.returncode = returncode


class DownloadError(PipFailedError):
    """Downloading archives into the local index failed after every retry."""


class BuildError(PipFailedError):
    """Building a wheel from a source distribution failed."""

    def __init__(
        self, message: str, output: str = "", returncode: int = 1, project: str = ""
    ) -> None:
        """Remember pip's output, its exit code and the project whose build failed."""
        super().__init__(message, output, returncode)
        self.project = project


class InstallError(PipAcceleratorError):
    """Installing a wheel into the target environment failed."""


class UnsafeWheelError(InstallError):
    """A wheel holds a file that would land outside the target environment."""


class DamagedTreeError(InstallError):
    """An unpacked tree lacks a file that its manifest lists (someone deleted it)."""


class ChangedTreeFileError(DamagedTreeError):
    """A file of an unpacked tree has another size or time than its manifest records: edited
    in place, or only copied (a copied data directory), which its contents tell."""


class ReportError(PipAcceleratorError):
    """The plan could not be described: a report not written, a wheel's metadata unreadable."""


class CacheError(PipAcceleratorError):
    """A binary cache backend could not read or store an entry.

    The binary cache disables a backend that raises it for the rest of the run,
    with a warning that gives this message, and goes on with the others.
    """


class CorruptObjectError(CacheError):
    """An object of a cache backend does not have the sha256 it was stored with.

    The binary cache treats it as absent, with a warning that names it, and
    goes on using the backend for everything else.
    """


class UntrustedObjectError(CorruptObjectError):
    """An object of a cache backend lacks a valid signature from a trusted key.

    Only a reader configured with ``s3-trusted-keys`` raises it; like a corrupt
    object, it is treated as absent, with a warning that names it.
    """


class CacheWriteRefusedError(CacheError):
    """A binary cache backend may be read but refused to store an entry.

    The binary cache keeps reading from such a backend and stops writing to it
    for the rest of the run.
    """


class SystemDependencyError(PipAcceleratorError):
    """A build needs system packages that pip-accel cannot or may not install."""


class DefinitionError(SystemDependencyError):
    """A data file of system dependencies is unusable."""


class MissingSystemPackagesError(SystemDependencyError):
    """A build failed for missing system packages, and pip-accel did not install them."""


class SystemPackageInstallError(SystemDependencyError):
    """The package manager failed to install (or list) system packages."""


class CacheCommandError(PipAcceleratorError):
    """A ``pip-accel cache`` command cannot do what it was asked; nothing was removed."""


class CacheUsageError(CacheCommandError):
    """A ``pip-accel cache`` command line is wrong (exit code 2, as pip's usage errors)."""


class LockFileError(PipAcceleratorError):
    """A lock file (``pylock.toml``) that pip refuses too, with pip's reason."""


class LockHashMismatchError(LockFileError):
    """An archive of a lock file whose sha256 is not the one the lock file gives."""


class HandOver(Exception):
    """Not an error: pip must run the whole command after all; the message says why.

    Raised while planning, once pip-accel finds that only pip gives pip's answer
    (a lock file with an entry pip installs as a direct reference, say); the
    command line then runs pip with the user's command unchanged.
    """
