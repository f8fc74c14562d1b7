"""What a distribution's file name says: its project and version.

Both the local index (:mod:`pip_accel.sources.local_index`) and the S3 cache,
which stores source archives by project, read archives' names; this module is
below both, so that neither imports the other.
"""

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)


def name_and_version(filename: str) -> tuple[str, str] | None:
    """The canonical project name and the version of a wheel or sdist file, or None when unclear."""
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidSdistFilename, InvalidWheelFilename):
        return None
    return canonicalize_name(name), str(version)
