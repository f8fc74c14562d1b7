"""The configuration of pip-accel: one :class:`Config` object handed down.

Every option has one value, found in layers: a value set in code (the
``overrides`` given to :class:`Config`) wins over an environment variable,
which wins over the configuration files, which win over the default. The files
are ``/etc/pip-accel.conf``, ``~/.pip-accel/pip-accel.conf`` and the file named
by ``$PIP_ACCEL_CONFIG``, read in that order (later files win), in INI syntax
with a ``[pip-accel]`` section. The environment variable of an option is
``PIP_ACCEL_`` plus the option's name in capitals with ``_`` for ``-``; the
data directory also answers to the historical name ``$PIP_ACCEL_CACHE``.
"""

import configparser
import errno
import logging
import os
import pwd
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from humanfriendly import (
    InvalidSize,
    InvalidTimespan,
    coerce_boolean,
    disk_size_units,
    parse_path,
    parse_size,
    parse_timespan,
)
from humanfriendly.text import tokenize

from pip_accel.exceptions import ConfigurationError

logger = logging.getLogger(__name__)

LINK_MODES = ("hardlink", "copy")
"""The ways of placing an installed file, as the option ``link-mode`` names them
(see :mod:`pip_accel.links`)."""

SECTION = "pip-accel"
"""The section of the configuration files that pip-accel reads."""

SYSTEM_CONFIG = Path("/etc/pip-accel.conf")
"""The system-wide configuration file, read first."""

DEFAULT_LOG_FORMAT = "%(asctime)s %(name)s[%(process)d] %(levelname)s %(message)s"
"""The log format used when none is configured (the one of coloredlogs)."""


BUILD_ENVIRONMENT = (
    "CC", "CXX", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS", "LDSHARED", "ARCHFLAGS",
)  # fmt: skip
"""The environment variables that change a C build, and so the binary cache key, by default."""

DATA_PARTS = ("sources", "binaries", "trees", "plans", "freshness", "probes", "starts")
"""The directories that pip-accel keeps in its data directory."""

FULL_DISK = frozenset({errno.ENOSPC, errno.EDQUOT})
"""The numbers of errors that say a file system (or the user's quota on it) is full."""

DENIED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
"""The numbers of errors that say a write was not permitted."""


@dataclass(frozen=True)
class Setting:
    """A configured value together with the place it came from."""

    value: str
    source: str


def _parse_integer(text: str) -> int:
    """Parse a whole number that is zero or more."""
    number = int(text)
    if number < 0:
        raise ValueError("negative")
    return number


def _parse_positive(text: str) -> int:
    """Parse a whole number that is one or more."""
    number = int(text)
    if number < 1:
        raise ValueError("not positive")
    return number


def _parse_seconds(text: str) -> float:
    """Parse a positive number of seconds."""
    number = float(text)
    if number <= 0:
        raise ValueError("not positive")
    return number


def _size_units() -> frozenset[str]:
    """The units of a size, in lower case: bytes, each unit's symbol and name, its prefix alone."""
    units = {"", "b", "byte", "bytes"}
    for unit in disk_size_units:
        for named in (unit.decimal, unit.binary):
            units |= {named.symbol.lower(), named.name.lower(), named.name.lower() + "s"}
        units.add(unit.decimal.symbol[0].lower())  # "500M", as humanfriendly reads it
    return frozenset(units)


SIZE_UNITS = _size_units()
"""Every unit a size may have (humanfriendly would read "2 parsecs" as 2 PB, by its "p")."""


def parse_size_strictly(text: str) -> int:
    """Parse a size such as ``20GB`` or ``500 MiB`` into bytes (more than zero).

    Raises :class:`ValueError` for anything else, a unit that is no unit included.
    """
    tokens = tokenize(text)
    number = bool(tokens) and isinstance(tokens[0], int | float)
    unit = tokens[1] if len(tokens) == 2 and isinstance(tokens[1], str) else ""
    if not number or len(tokens) != (2 if unit else 1):
        raise ValueError("not a number and a unit")
    if unit.lower() not in SIZE_UNITS:
        raise ValueError(f"unknown unit {unit!r}")
    try:
        size = int(parse_size(text))
    except InvalidSize as error:  # not a ValueError: Config.get would not catch it
        raise ValueError(str(error)) from error
    if size < 1:
        raise ValueError("not positive")
    return size


def _parse_duration(text: str) -> float:
    """Parse a duration such as ``10m``, ``90s``, ``1h`` or ``0`` into seconds (0 or more)."""
    try:
        return float(parse_timespan(text))
    except InvalidTimespan as error:  # not a ValueError: Config.get would not catch it
        raise ValueError(str(error)) from error


def _parse_names(text: str) -> tuple[str, ...]:
    """Parse a list of names separated by commas or white space."""
    return tuple(name for name in text.replace(",", " ").split() if name)


def _parse_level(text: str) -> str:
    """Parse a log level name such as ``INFO`` or ``debug``."""
    name = text.strip().upper()
    if not isinstance(logging.getLevelName(name), int):
        raise ValueError("unknown level")
    return name


def _parse_link_mode(text: str) -> str:
    """Parse a link mode: ``hardlink`` or ``copy``."""
    mode = text.strip().lower()
    if mode not in LINK_MODES:
        raise ValueError("unknown link mode")
    return mode


def _writable(directory: Path) -> bool:
    """Whether this process may create and delete files in ``directory``."""
    effective = os.access in os.supports_effective_ids
    return os.access(directory, os.W_OK | os.X_OK, effective_ids=effective)


def _user_name() -> str:
    """The name of the user this process writes files as (its number when it has no name)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def _filenames(error: OSError) -> list[str]:
    """The paths an error names, the written one (the second, as in a copy) first."""
    names = [error.filename2, error.filename]
    return [os.fsdecode(name) for name in names if isinstance(name, str | bytes) and name]


def _is_inside(name: str, directory: Path) -> bool:
    """Whether the path ``name`` is ``directory`` or lies below it."""
    return Path(os.path.abspath(name)).is_relative_to(os.path.abspath(directory))


def _reason(error: OSError) -> str:
    """The system's words for an error's number, such as "No space left on device"."""
    return error.strerror or os.strerror(error.errno or 0)


# name -> (parser, human description of a valid value, default)
OPTIONS: dict[str, tuple[Callable[[str], Any], str, Any]] = {
    "data-directory": (parse_path, "a directory", None),
    "link-mode": (_parse_link_mode, "hardlink or copy", "hardlink"),
    "max-retries": (_parse_integer, "a whole number of 0 or more", 3),
    "auto-install": (coerce_boolean, "a boolean (true/false, yes/no, 1/0)", None),
    "system-dependencies": (parse_path, "a directory", None),
    "log-format": (str, "a log format", DEFAULT_LOG_FORMAT),
    "log-verbosity": (_parse_level, "a log level such as INFO or DEBUG", "INFO"),
    "s3-url": (str, "a URL", None),
    "s3-bucket": (str, "a bucket name", None),
    "s3-prefix": (str, "a key prefix", ""),
    "s3-readonly": (coerce_boolean, "a boolean (true/false, yes/no, 1/0)", False),
    "s3-create-bucket": (coerce_boolean, "a boolean (true/false, yes/no, 1/0)", False),
    "s3-timeout": (_parse_seconds, "a positive number of seconds", 60.0),
    "s3-retries": (_parse_integer, "a whole number of 0 or more", 3),
    "s3-concurrency": (_parse_positive, "a whole number of 1 or more", 8),
    "s3-signing-key": (parse_path, "a private key file", None),
    "s3-trusted-keys": (str, "public keys, or files that hold them", None),
    "max-cache-size": (parse_size_strictly, "a size such as 20GB or 500MiB", None),
    "download-concurrency": (_parse_positive, "a whole number of 1 or more", 4),
    "build-environment": (_parse_names, "names of environment variables", BUILD_ENVIRONMENT),
    "index-ttl": (_parse_duration, "a duration such as 10m, 90s or 0", 600.0),
}
"""Every option pip-accel knows: how to parse it, what it must be, its default."""


def environment_variable(option: str) -> str:
    """The name of the environment variable of an option."""
    return "PIP_ACCEL_" + option.upper().replace("-", "_")


class Config:
    """Every option of pip-accel, with its layers resolved once and validated."""

    def __init__(
        self,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """Prepare a configuration.

        :param overrides: option name to value, winning over everything else.
        :param environ: the environment to read (defaults to ``os.environ``).
        """
        self.overrides = dict(overrides or {})
        self.environ = os.environ if environ is None else environ
        unknown = set(self.overrides) - set(OPTIONS)
        if unknown:
            raise ConfigurationError(f"Unknown configuration option(s): {', '.join(unknown)}")

    @cached_property
    def files(self) -> list[Path]:
        """The configuration files that exist, in the order they are read."""
        home = Path(self.environ.get("HOME") or Path.home())
        candidates = [SYSTEM_CONFIG, home / ".pip-accel" / "pip-accel.conf"]
        found = [path for path in candidates if path.is_file()]
        named = self.environ.get("PIP_ACCEL_CONFIG")
        if named:
            path = Path(named).expanduser()
            if not path.is_file():
                raise ConfigurationError(
                    f"The configuration file {path} named by $PIP_ACCEL_CONFIG does not exist;"
                    " create it or unset the variable."
                )
            found.append(path)
        return found

    @cached_property
    def file_settings(self) -> dict[str, Setting]:
        """The options set in configuration files (a later file wins)."""
        settings: dict[str, Setting] = {}
        for path in self.files:
            settings.update(self._read_file(path))
        return settings

    def _read_file(self, path: Path) -> dict[str, Setting]:
        """Read the ``[pip-accel]`` section of one configuration file."""
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError) as error:
            reason = str(error).splitlines()[0]
            raise ConfigurationError(f"Cannot read configuration file {path}: {reason}") from error
        if not parser.has_section(SECTION):
            raise ConfigurationError(
                f"Configuration file {path} has no [{SECTION}] section; add one above its options."
            )
        settings = {}
        for name, value in parser.items(SECTION):
            if name not in OPTIONS:
                raise ConfigurationError(
                    f"Configuration file {path} sets unknown option {name!r};"
                    f" known options: {', '.join(OPTIONS)}."
                )
            settings[name] = Setting(value, f"configuration file {path}")
        return settings

    def setting(self, name: str) -> Setting | None:
        """The raw value of an option and where it came from, or None when unset."""
        if name in self.overrides and self.overrides[name] is not None:
            return Setting(str(self.overrides[name]), "the code that called pip-accel")
        variables = [environment_variable(name)]
        if name == "data-directory":
            variables.insert(0, "PIP_ACCEL_CACHE")
        for variable in variables:
            value = self.environ.get(variable)
            if value:
                return Setting(value, f"environment variable ${variable}")
        return self.file_settings.get(name)

    def get(self, name: str) -> Any:
        """The parsed value of an option (the default when it is not set)."""
        parse, expected, default = OPTIONS[name]
        override = self.overrides.get(name)
        if override is not None and not isinstance(override, str):
            return override
        setting = self.setting(name)
        if setting is None:
            return default
        try:
            return parse(setting.value)
        except (ValueError, TypeError) as error:
            raise ConfigurationError(
                f"Invalid value {setting.value!r} for option {name} in {setting.source}:"
                f" expected {expected}."
            ) from error

    def validate(self) -> None:
        """Parse every option now, so that a bad value stops pip-accel before any work."""
        for name in OPTIONS:
            self.get(name)
        self.data_directory  # noqa: B018 (creating it is the point)
        self.system_dependencies  # noqa: B018 (checking that it exists is the point)
        if self.s3_bucket and (self.s3_signing_key or self.s3_trusted_keys):
            from pip_accel.signing import check_keys  # cryptography only when keys are used

            check_keys(self)

    @cached_property
    def data_directory(self) -> Path:
        """The directory of the local index and the binary cache, created when missing."""
        configured = self.get("data-directory")
        if configured:
            path = Path(configured)
        elif os.getuid() == 0:
            path = Path("/var/cache/pip-accel")
        else:
            path = Path(self.environ.get("HOME") or Path.home()) / ".pip-accel"
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigurationError(
                f"Cannot create the data directory {path}{self._data_origin()}: {error.strerror};"
                " choose a writable directory with $PIP_ACCEL_CACHE."
            ) from error
        self._check_writable(path)
        return path

    def _data_origin(self) -> str:
        """Where the data directory was configured, as words to put after its name."""
        setting = self.setting("data-directory")
        return f" (from {setting.source})" if setting else ""

    def _check_writable(self, path: Path) -> None:
        """Stop with one line when pip-accel cannot write the data directory or one of its parts.

        A directory that exists but belongs to another user (often root, after
        a ``sudo pip-accel``) would otherwise fail later, midway, with a traceback.
        """
        parts = [path / name for name in DATA_PARTS]
        for directory in [path, *(part for part in parts if os.path.exists(part))]:
            if not _writable(directory):
                what = f"The data directory {path}"
                if directory != path:
                    what = f"The directory {directory} in the data directory {path}"
                raise ConfigurationError(
                    f"{what}{self._data_origin()} is not writable by the user {_user_name()};"
                    " make it writable for that user or choose another data directory"
                    " with $PIP_ACCEL_CACHE."
                )

    def explain_write_failure(self, error: OSError) -> str | None:
        """One line that explains a write the machine refused, or None for any other error.

        A full disk or an exhausted quota can stop a write anywhere; a denied
        permission (or a read-only file system) is explained only inside the
        data directory, where changing the data directory helps. Everything
        else is a bug, better shown with its traceback.
        """
        data = self.__dict__.get("data_directory")  # only when settled: never create it here
        if error.errno in FULL_DISK:
            written = _filenames(error)
            path = written[0] if written else data or "the data directory"
            return (
                f"{_reason(error)} while writing {path}: free some space or choose another"
                " data directory ($PIP_ACCEL_CACHE), then run pip-accel again."
            )
        inside = [name for name in _filenames(error) if data and _is_inside(name, data)]
        if error.errno in DENIED and inside:
            detail = "" if error.errno == errno.EACCES else f" ({_reason(error)})"
            return (
                f"Permission denied writing {inside[0]}{detail}: make it writable by the user"
                f" {_user_name()} or choose another data directory ($PIP_ACCEL_CACHE),"
                " then run pip-accel again."
            )
        return None

    @property
    def source_index(self) -> Path:
        """The local index: every archive pip-accel has downloaded."""
        return self.data_directory / "sources"

    @property
    def binary_cache(self) -> Path:
        """The local binary cache: wheels built from source distributions."""
        return self.data_directory / "binaries"

    @property
    def tree_cache(self) -> Path:
        """The unpacked trees of installed wheels, with their bytecode."""
        return self.data_directory / "trees"

    @property
    def plan_cache(self) -> Path:
        """The plans of earlier runs, by what they depend on."""
        return self.data_directory / "plans"

    @property
    def probe_cache(self) -> Path:
        """What the probe of each target interpreter answered (:mod:`pip_accel.probe_cache`)."""
        return self.data_directory / "probes"

    @property
    def start_cache(self) -> Path:
        """What pip's parser made of earlier command lines (:mod:`pip_accel.fast_start`)."""
        return self.data_directory / "starts"

    @property
    def freshness_record(self) -> Path:
        """When the package index was last asked about each project (:mod:`pip_accel.freshness`)."""
        return self.data_directory / "freshness"

    @property
    def link_mode(self) -> str:
        """How installed files are placed: ``hardlink`` (from the trees) or ``copy``."""
        return str(self.get("link-mode"))

    @property
    def max_retries(self) -> int:
        """How many times a failed download is tried again."""
        return int(self.get("max-retries"))

    @property
    def auto_install(self) -> bool | None:
        """Whether missing system packages may be installed (None: ask on a terminal)."""
        value = self.get("auto-install")
        return None if value is None else bool(value)

    @property
    def system_dependencies(self) -> Path | None:
        """The directory of the user's own system dependency definitions, if one is set."""
        configured = self.get("system-dependencies")
        if not configured:
            return None
        path = Path(configured)
        if not path.is_dir():
            setting = self.setting("system-dependencies")
            origin = f" (from {setting.source})" if setting else ""
            raise ConfigurationError(
                f"The system dependencies directory {path}{origin} is not a directory;"
                " create it or change the option system-dependencies."
            )
        return path

    @property
    def log_format(self) -> str:
        """The format of pip-accel's log lines."""
        return str(self.get("log-format"))

    @property
    def log_verbosity(self) -> str:
        """The name of pip-accel's log level before ``-v`` and ``-q``."""
        return str(self.get("log-verbosity"))

    @property
    def s3_bucket(self) -> str | None:
        """The bucket of the S3 cache backend (None: the backend is off)."""
        value = self.get("s3-bucket")
        return str(value) if value else None

    @property
    def s3_prefix(self) -> str:
        """The prefix of the S3 cache backend's object names, without outer slashes."""
        return str(self.get("s3-prefix")).strip("/")

    @property
    def s3_url(self) -> str | None:
        """The endpoint of an S3-compatible service (None: Amazon S3)."""
        value = self.get("s3-url")
        return str(value) if value else None

    @property
    def s3_readonly(self) -> bool:
        """Whether the S3 cache backend only reads."""
        return bool(self.get("s3-readonly"))

    @property
    def s3_create_bucket(self) -> bool:
        """Whether the S3 cache backend creates its bucket when it does not exist."""
        return bool(self.get("s3-create-bucket"))

    @property
    def s3_timeout(self) -> float:
        """How many seconds a request to S3 may take."""
        return float(self.get("s3-timeout"))

    @property
    def s3_retries(self) -> int:
        """How many more times a failed request to S3 is tried."""
        return int(self.get("s3-retries"))

    @property
    def s3_concurrency(self) -> int:
        """How many S3 transfers run at once."""
        return int(self.get("s3-concurrency"))

    @property
    def s3_signing_key(self) -> Path | None:
        """The private key file with which a writer signs what it stores in S3 (None: unsigned)."""
        value = self.get("s3-signing-key")
        return Path(value) if value else None

    @property
    def s3_trusted_keys(self) -> str | None:
        """The public keys (or files holding them) whose signatures a reader trusts (None: any)."""
        value = self.get("s3-trusted-keys")
        return str(value) if value else None

    @property
    def max_cache_size(self) -> int | None:
        """The most bytes the data directory may hold after an install (None: no bound)."""
        value = self.get("max-cache-size")
        return int(value) if value else None

    @property
    def download_concurrency(self) -> int:
        """How many downloads run at once."""
        return int(self.get("download-concurrency"))

    @property
    def index_ttl(self) -> float:
        """How many seconds the package index's answer about a project counts as fresh."""
        return float(self.get("index-ttl"))

    @property
    def build_environment(self) -> tuple[str, ...]:
        """The environment variables whose values are part of the binary cache key."""
        return tuple(self.get("build-environment"))
