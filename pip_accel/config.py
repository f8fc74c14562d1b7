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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from humanfriendly import coerce_boolean, parse_path

from pip_accel.exceptions import ConfigurationError
from pip_accel.links import LINK_MODES

logger = logging.getLogger(__name__)

SECTION = "pip-accel"
"""The section of the configuration files that pip-accel reads."""

SYSTEM_CONFIG = Path("/etc/pip-accel.conf")
"""The system-wide configuration file, read first."""

DEFAULT_LOG_FORMAT = "%(asctime)s %(name)s[%(process)d] %(levelname)s %(message)s"
"""The log format used when none is configured (the one of coloredlogs)."""


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


def _parse_seconds(text: str) -> float:
    """Parse a positive number of seconds."""
    number = float(text)
    if number <= 0:
        raise ValueError("not positive")
    return number


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
            setting = self.setting("data-directory")
            origin = f" (from {setting.source})" if setting else ""
            raise ConfigurationError(
                f"Cannot create the data directory {path}{origin}: {error.strerror};"
                " choose a writable directory with $PIP_ACCEL_CACHE."
            ) from error
        return path

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
