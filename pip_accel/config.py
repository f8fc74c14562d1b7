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
import logging
import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from humanfriendly import (
    coerce_boolean,
    parse_path,
)

from pip_accel.config_options import (
    BOOLEAN,
    Option,
    as_names,
    as_prefix,
    optional_boolean,
    optional_path,
    optional_size,
    optional_text,
    parse_duration,
    parse_integer,
    parse_level,
    parse_link_mode,
    parse_names,
    parse_positive,
    parse_seconds,
    parse_size_strictly,
)
from pip_accel.datadir import layout
from pip_accel.exceptions import ConfigurationError

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class Setting:
    """A configured value together with the place it came from."""

    value: str
    source: str


def _writable(directory: Path) -> bool:
    """Whether this process may create and delete files in ``directory``."""
    effective = os.access in os.supports_effective_ids
    return os.access(directory, os.W_OK | os.X_OK, effective_ids=effective)


def user_name() -> str:
    """The name of the user this process writes files as (its number when it has no name)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def environment_variable(option: str) -> str:
    """The name of the environment variable of an option."""
    return "PIP_ACCEL_" + option.upper().replace("-", "_")


class Config:
    """Every option of pip-accel, with its layers resolved once and validated.

    Each option is declared once, below: its name, parser, valid values and
    default, and the attribute that reads its value.
    """

    configured_data_directory = Option(
        "data-directory", parse_path, "a directory", None, optional_path
    )
    """The data directory as configured (None: the default place; see :attr:`data_directory`)."""

    link_mode = Option("link-mode", parse_link_mode, "hardlink or copy", "hardlink", str)
    """How installed files are placed: ``hardlink`` (from the trees) or ``copy``."""

    max_retries = Option("max-retries", parse_integer, "a whole number of 0 or more", 3, int)
    """How many times a failed download is tried again."""

    auto_install = Option("auto-install", coerce_boolean, BOOLEAN, None, optional_boolean)
    """Whether missing system packages may be installed (None: ask on a terminal)."""

    configured_system_dependencies = Option(
        "system-dependencies", parse_path, "a directory", None, optional_path
    )
    """The directory of the user's own system dependency definitions as configured (see
    :attr:`system_dependencies`)."""

    log_format = Option("log-format", str, "a log format", DEFAULT_LOG_FORMAT, str)
    """The format of pip-accel's log lines."""

    log_verbosity = Option(
        "log-verbosity", parse_level, "a log level such as INFO or DEBUG", "INFO", str
    )
    """The name of pip-accel's log level before ``-v`` and ``-q``."""

    s3_url = Option("s3-url", str, "a URL", None, optional_text)
    """The endpoint of an S3-compatible service (None: Amazon S3)."""

    s3_bucket = Option("s3-bucket", str, "a bucket name", None, optional_text)
    """The bucket of the S3 cache backend (None: the backend is off)."""

    s3_prefix = Option("s3-prefix", str, "a key prefix", "", as_prefix)
    """The prefix of the S3 cache backend's object names, without outer slashes."""

    s3_readonly = Option("s3-readonly", coerce_boolean, BOOLEAN, False, bool)
    """Whether the S3 cache backend only reads."""

    s3_create_bucket = Option("s3-create-bucket", coerce_boolean, BOOLEAN, False, bool)
    """Whether the S3 cache backend creates its bucket when it does not exist."""

    s3_timeout = Option("s3-timeout", parse_seconds, "a positive number of seconds", 60.0, float)
    """How many seconds a request to S3 may take."""

    s3_retries = Option("s3-retries", parse_integer, "a whole number of 0 or more", 3, int)
    """How many more times a failed request to S3 is tried."""

    s3_concurrency = Option("s3-concurrency", parse_positive, "a whole number of 1 or more", 8, int)
    """How many S3 transfers run at once."""

    s3_signing_key = Option("s3-signing-key", parse_path, "a private key file", None, optional_path)
    """The private key file with which a writer signs what it stores in S3 (None: unsigned)."""

    s3_trusted_keys = Option(
        "s3-trusted-keys", str, "public keys, or files that hold them", None, optional_text
    )
    """The public keys (or files holding them) whose signatures a reader trusts (None: any)."""

    max_cache_size = Option(
        "max-cache-size", parse_size_strictly, "a size such as 20GB or 500MiB", None, optional_size
    )
    """The most bytes the data directory may hold after an install (None: no bound)."""

    download_concurrency = Option(
        "download-concurrency", parse_positive, "a whole number of 1 or more", 4, int
    )
    """How many downloads run at once."""

    build_environment = Option(
        "build-environment",
        parse_names,
        "names of environment variables",
        BUILD_ENVIRONMENT,
        as_names,
    )
    """The environment variables whose values are part of the binary cache key."""

    index_ttl = Option(
        "index-ttl", parse_duration, "a duration such as 10m, 90s or 0", 600.0, float
    )
    """How many seconds the package index's answer about a project counts as fresh."""

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
        option = OPTIONS[name]
        override = self.overrides.get(name)
        if override is not None and not isinstance(override, str):
            return override
        setting = self.setting(name)
        if setting is None:
            return option.default
        try:
            return option.parse(setting.value)
        except (ValueError, TypeError) as error:
            raise ConfigurationError(
                f"Invalid value {setting.value!r} for option {name} in {setting.source}:"
                f" expected {option.expected}."
            ) from error

    def validate(self) -> None:
        """Parse every option now, so that a bad value stops pip-accel before any work."""
        for name in OPTIONS:
            self.get(name)
        self.data_directory  # noqa: B018 (creating it is the point)
        self.system_dependencies  # noqa: B018 (checking that it exists is the point)

    @cached_property
    def data_directory(self) -> Path:
        """The directory of the local index and the binary cache, created when missing."""
        configured = self.configured_data_directory
        if configured:
            path = configured
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

    @property
    def settled_data_directory(self) -> Path | None:
        """The data directory if it is settled already, else None (this never creates it)."""
        return self.__dict__.get("data_directory")

    def _data_origin(self) -> str:
        """Where the data directory was configured, as words to put after its name."""
        setting = self.setting("data-directory")
        return f" (from {setting.source})" if setting else ""

    def _check_writable(self, path: Path) -> None:
        """Stop with one line when pip-accel cannot write the data directory or one of its parts.

        A directory that exists but belongs to another user (often root, after
        a ``sudo pip-accel``) would otherwise fail later, midway, with a traceback.
        """
        parts = [path / name for name in layout.PARTS]
        for directory in [path, *(part for part in parts if os.path.exists(part))]:
            if not _writable(directory):
                what = f"The data directory {path}"
                if directory != path:
                    what = f"The directory {directory} in the data directory {path}"
                raise ConfigurationError(
                    f"{what}{self._data_origin()} is not writable by the user {user_name()};"
                    " make it writable for that user or choose another data directory"
                    " with $PIP_ACCEL_CACHE."
                )

    @property
    def source_index(self) -> Path:
        """The local index: every archive pip-accel has downloaded."""
        return self.data_directory / layout.SOURCES

    @property
    def binary_cache(self) -> Path:
        """The local binary cache: wheels built from source distributions."""
        return self.data_directory / layout.BINARIES

    @property
    def tree_cache(self) -> Path:
        """The unpacked trees of installed wheels, with their bytecode."""
        return self.data_directory / layout.TREES

    @property
    def plan_cache(self) -> Path:
        """The plans of earlier runs, by what they depend on."""
        return self.data_directory / layout.PLANS

    @property
    def probe_cache(self) -> Path:
        """What the probe of each target interpreter answered (:mod:`pip_accel.probe_cache`)."""
        return self.data_directory / layout.PROBES

    @property
    def start_cache(self) -> Path:
        """What pip's parser made of earlier command lines (:mod:`pip_accel.cli.fast_start`)."""
        return self.data_directory / layout.STARTS

    @property
    def freshness_record(self) -> Path:
        """When the index was last asked about each project (:mod:`pip_accel.plan.freshness`)."""
        return self.data_directory / layout.FRESHNESS

    @property
    def lock_directory(self) -> Path:
        """The lock of the data directory, and one lock per environment pip-accel installs into."""
        return self.data_directory / layout.LOCKS

    @property
    def scratch_directory(self) -> Path:
        """Runs' private directories that belong to no part (builds, the fleet's transfers)."""
        return self.data_directory / layout.SCRATCH

    @property
    def system_dependencies(self) -> Path | None:
        """The directory of the user's own system dependency definitions, if one is set."""
        path = self.configured_system_dependencies
        if path is None:
            return None
        if not path.is_dir():
            setting = self.setting("system-dependencies")
            origin = f" (from {setting.source})" if setting else ""
            raise ConfigurationError(
                f"The system dependencies directory {path}{origin} is not a directory;"
                " create it or change the option system-dependencies."
            )
        return path


OPTIONS: dict[str, Option[Any]] = {
    option.name: option for option in vars(Config).values() if isinstance(option, Option)
}
"""Every option pip-accel knows, by name, in the order of the documentation."""
