"""Describe the interpreter that runs this file, as JSON on standard output.

pip-accel runs this file with the *target* interpreter, which may be another
Python version than pip-accel's own, so it uses nothing but the standard
library and the ``packaging`` library, whose directory is given as the first
argument and put in front of ``sys.path``.
"""

import json
import platform
import site
import sys
import sysconfig

SYS_PATH = list(sys.path)
"""Where the interpreter looks for distributions (before the probe adds ``packaging``)."""

BASE = "@BASE@"
"""A placeholder for the base of a ``--prefix`` scheme, replaced by the caller."""


def describe() -> dict:  # type: ignore[type-arg]
    """Everything pip-accel needs to know of this interpreter."""
    from packaging import markers, tags

    preferred = getattr(sysconfig, "get_preferred_scheme", None)  # Python >= 3.10
    prefix_scheme = preferred("prefix") if preferred else "posix_prefix"
    user_scheme = preferred("user") if preferred else "posix_user"
    placeholders = {"base": BASE, "platbase": BASE, "installed_base": BASE}
    libc, libc_version = platform.libc_ver()
    in_venv = sys.prefix != sys.base_prefix
    return {
        "executable": sys.executable,
        "sys_path": SYS_PATH
        + ([] if sys.prefix != sys.base_prefix else [site.getusersitepackages()]),
        "prefix": sys.prefix,
        "in_venv": in_venv,
        "version": "{}.{}".format(*sys.version_info[:2]),
        "implementation": sys.implementation.name,
        "cache_tag": sys.implementation.cache_tag,
        "platform": sysconfig.get_platform(),
        "libc": f"{libc}{libc_version}",
        "tags": [str(tag) for tag in tags.sys_tags()],
        "markers": markers.default_environment(),
        "paths": sysconfig.get_paths(),
        "user_paths": sysconfig.get_paths(user_scheme, vars={"userbase": site.getuserbase()}),
        "prefix_paths": sysconfig.get_paths(prefix_scheme, vars=placeholders),
    }


if __name__ == "__main__":
    sys.path.insert(0, sys.argv[1])
    json.dump(describe(), sys.stdout)
