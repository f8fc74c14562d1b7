"""The package index as pip sees it, in this process: the archive pip picks for a pin, fetched.

``pip download`` prepares the metadata of every sdist it downloads (a build
environment and a build back-end hook each, seconds of work), though
pip-accel builds the sdist next anyway, and it fetches one file at a time.
For exact pins pip-accel needs neither: it asks pip's own ``PackageFinder``
which archive pip would take, and fetches it with pip's own ``PipSession``.
Both are made by pip from the user's options and pip's configuration (files
and ``PIP_*`` variables), so whatever pip honours is honoured: index URLs and
extra indexes, find-links, trusted hosts, certificates and client
certificates, proxies, credentials in URLs, netrc and keyring, timeouts,
retries, ``--only-binary``, ``--no-binary``, ``--prefer-binary`` and
``--pre``. The target interpreter's own tags and Python version choose among
the archives, as in ``pip download --python``.

These are pip's internal interfaces, the same from pip 23.0 to 26; a pip
where they differ raises :class:`PipIndexUnavailable`, and pip-accel then
runs ``pip download`` as before.
"""

import functools
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pip_accel.exceptions import DownloadError, PipAcceleratorError
from pip_accel.pip.output import redact
from pip_accel.sources.listing import Listing

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
"""How many bytes of a download are written at a time."""

NO_ENCODING = {"Accept-Encoding": "identity"}
"""What pip sends with a download: the archive's own bytes, not a re-encoding of them."""

PAGE_HEADERS = {"Accept": "application/vnd.pypi.simple.v1+json, text/html; q=0.01"}
"""What pip accepts for a project's page of the package index."""


class PipIndexUnavailable(PipAcceleratorError):
    """pip's finder and session cannot be used in this process (another pip's internals)."""


@dataclass(frozen=True)
class RemoteArchive:
    """The archive that pip would download for one pin."""

    url: str
    filename: str
    hashes: dict[str, str] = field(default_factory=dict)
    """The hashes the index gives for it (name to hexadecimal digest)."""


class PipIndex:
    """Finds and fetches archives with pip's finder and session, configured by pip's options."""

    def __init__(self, tokens: Sequence[str], tags: Sequence[str], python_version: str) -> None:
        """Ask the indexes that ``tokens`` (pip options) name, for an interpreter of these tags.

        :raises PipIndexUnavailable: when this pip's internals are not the expected ones.
        """
        try:
            self.session, self.finder, self.timeout = _finder(tokens, tags, python_version)
        except (ImportError, AttributeError, TypeError) as error:
            raise PipIndexUnavailable(f"pip's finder cannot be used here ({error})") from error

    def find(self, name: str, version: str) -> RemoteArchive | None:
        """The archive pip would take for ``name==version``, or None when there is none."""
        from pip._vendor.packaging.specifiers import SpecifierSet

        best = self.finder.find_best_candidate(name, SpecifierSet(f"=={version}")).best_candidate
        if best is None:
            return None
        link = best.link
        hashes = {link.hash_name: link.hash} if link.hash_name and link.hash else {}
        return RemoteArchive(link.url_without_fragment, link.filename, hashes)

    def listing(self, name: str) -> Listing:
        """What the package indexes list for project ``name``: each version with an archive
        pip may take for the target, and those whose every such archive is yanked.

        pip's finder keeps the pages it fetched, and pip's session revalidates them
        against its HTTP cache, so a page ``pip download`` just fetched costs a
        small conditional request.
        """
        candidates = self.finder.find_all_candidates(name)
        versions = {str(candidate.version) for candidate in candidates}
        kept = {str(candidate.version) for candidate in candidates if not candidate.link.is_yanked}
        return Listing(tuple(sorted(versions)), tuple(sorted(versions - kept)))

    def fetch(self, archive: RemoteArchive, directory: Path) -> Path:
        """Download ``archive`` into ``directory``, checking the index's hash of it.

        :raises DownloadError: naming the URL and the reason, when it fails.
        """
        from pip._internal.exceptions import PipError

        shown = redact(archive.url)
        path = directory / archive.filename
        digests = {name: hashlib.new(name) for name in archive.hashes}
        try:
            with self.session.get(
                archive.url, headers=NO_ENCODING, stream=True, timeout=self.timeout
            ) as response:
                response.raise_for_status()
                with path.open("wb") as stream:
                    for chunk in response.iter_content(CHUNK):
                        stream.write(chunk)
                        for digest in digests.values():
                            digest.update(chunk)
        except (OSError, PipError) as error:  # requests' errors are OSErrors too
            reason = error.__cause__ if isinstance(error, PipError) and error.__cause__ else error
            raise DownloadError(f"Could not download {shown}: {redact(str(reason))}") from error
        for name, digest in digests.items():
            if digest.hexdigest() != archive.hashes[name]:
                path.unlink()
                raise DownloadError(
                    f"Could not download {shown}: its {name} is not the one the index gives."
                )
        return path

    def trouble(self, name: str) -> str | None:
        """Why the package indexes cannot be asked about project ``name`` now; None when each
        of them answered (a page it does not have, 404, is an answer too).

        Asked with pip's session (its retries, timeout and HTTP cache), so that an
        index pip cannot reach is told apart from one that has nothing newer:
        ``pip download`` goes on without an index it cannot reach when the
        local index has the archives.
        """
        from pip._internal.exceptions import PipError

        for url in self.finder.search_scope.get_index_urls_locations(name):
            if not url.startswith(("http://", "https://")):
                continue  # a local directory: pip reads it as it is
            try:
                with self.session.get(
                    url, headers=PAGE_HEADERS, stream=True, timeout=self.timeout
                ) as response:
                    if response.status_code >= 500:
                        return f"{redact(url)} answered {response.status_code}"
            except (OSError, PipError) as error:  # requests' errors are OSErrors too
                return f"{redact(url)}: {redact(str(error))}"
        return None

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()


def _finder(
    tokens: Sequence[str], tags: Sequence[str], python_version: str
) -> tuple[Any, Any, Any]:
    """pip's session and finder, as ``pip download`` makes them, for the target's tags."""
    from pip._internal.commands import create_command
    from pip._internal.models.target_python import TargetPython
    from pip._vendor.packaging.tags import Tag

    _quiet_pip()
    _user_agent_once()
    command: Any = create_command("download")
    options, _ = command.parse_args(list(tokens))
    session = command._build_session(options)
    auth = getattr(session, "auth", None)
    if auth is not None and hasattr(auth, "prompting"):
        auth.prompting = False  # pip-accel's downloads cannot ask for a password
    version = tuple(int(part) for part in python_version.split(".")[:3] if part.isdigit())
    target = TargetPython(py_version_info=version)
    valid = [Tag(*tag.split("-")) for tag in tags]
    slots = [name for kind in type(target).__mro__ for name in getattr(kind, "__slots__", ())]
    if "_valid_tags" not in slots:
        raise AttributeError("TargetPython has no _valid_tags")
    target._valid_tags = valid
    if "_valid_tags_set" in slots:
        target._valid_tags_set = set(valid)
    finder = command._build_package_finder(
        options=options,
        session=session,
        target_python=target,
        ignore_requires_python=options.ignore_requires_python,
    )
    return session, finder, options.timeout


def _user_agent_once() -> None:
    """Have pip make its user agent once in this process, not once per session.

    pip's session asks for it when it is made, and pip runs ``rustc --version`` for it
    (where a rustc is on the PATH) and reads the distribution's release files: a tenth
    of a second and a process each time, where pip-accel makes a session for each thread
    that downloads. The answer cannot change within one process.
    """
    from pip._internal.network import session as pip_session

    if not hasattr(pip_session.user_agent, "cache_info"):
        pip_session.user_agent = functools.cache(pip_session.user_agent)


class _ToDebug(logging.Handler):
    """Passes pip's own log records (a page it could not fetch, a retry) to the debug log."""

    def emit(self, record: logging.LogRecord) -> None:
        """Log the record's message at DEBUG, as pip-accel's."""
        logger.debug("pip: %s", record.getMessage())


def _quiet_pip() -> None:
    """Keep pip's log records out of the output: the fallback to ``pip download`` says why."""
    for name in ("pip", "pip._vendor"):
        pip_logger = logging.getLogger(name)
        if not any(isinstance(handler, _ToDebug) for handler in pip_logger.handlers):
            pip_logger.addHandler(_ToDebug())
            pip_logger.propagate = False
