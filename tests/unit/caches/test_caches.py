"""The binary cache asks its backends in order, shares named objects, and survives their failures.

Fast unit tests of :class:`pip_accel.caches.binary_cache.BinaryCache` with stand-in backends (small
classes that serve wheels and named objects from dicts and record every call), and of the
parts of :mod:`pip_accel.caches.s3` that need no S3 (a stand-in client): no server, no boto3.
"""

import hashlib
import logging
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from pip_accel.caches import CacheBackend, CacheKey
from pip_accel.caches.binary_cache import BinaryCache
from pip_accel.caches.s3 import S3CacheBackend, source_object
from pip_accel.config import Config
from pip_accel.exceptions import CacheError, CacheWriteRefusedError, CorruptObjectError

KEY = CacheKey("py3-none-any", "purepkg", "1.0", "a" * 64)
"""The key of the wheels of these tests."""

THREADS = 8
"""How many threads call a failing backend at once."""


class Backend(CacheBackend):
    """A backend that keeps wheels and named objects in dicts and records every call."""

    def __init__(
        self,
        priority: int,
        calls: list[str] | None = None,
        *,
        remote: bool = True,
        writable: bool = True,
    ) -> None:
        """A backend asked after those of a lower ``priority``; it logs to ``calls``."""
        self.priority = priority
        self.remote = remote
        self.writable = writable
        self.calls = calls if calls is not None else []
        self.wheels: dict[CacheKey, Path] = {}
        self.objects: dict[str, bytes] = {}
        self.error: Exception | None = None
        """Raised by every call once set."""
        self.barrier: threading.Barrier | None = None
        """Waited at by every call before it raises, so that threads fail at the same time."""
        self.lock = threading.Lock()

    def _called(self, what: str) -> None:
        """Record a call, then fail when told to."""
        with self.lock:
            self.calls.append(f"{self.priority}:{what}")
        if self.error is not None:
            if self.barrier is not None:
                self.barrier.wait(timeout=10)
            raise self.error

    def get(self, key: CacheKey) -> Path | None:
        """The wheel of ``key``, if it was put."""
        self._called("get")
        return self.wheels.get(key)

    def put(self, key: CacheKey, wheel: Path) -> None:
        """Keep ``wheel`` under ``key`` (the path itself: these tests do not move files)."""
        self._called("put")
        self.wheels[key] = wheel


class SharingBackend(Backend, shares_objects=True):
    """A backend that also shares named objects (plans, trees) as S3 does."""

    def connect(self) -> None:
        """Record the call."""
        self._called("connect")

    def fetch(self, name: str, target: Path, sha256: str | None = None) -> Path | None:
        """Write the object ``name`` to ``target``, or None when there is none."""
        self._called(f"fetch {name}")
        if name not in self.objects:
            return None
        target.write_bytes(self.objects[name])
        return target

    def store(self, path: Path, name: str) -> bool:
        """Keep the contents of ``path`` as the object ``name``."""
        self._called(f"store {name}")
        with self.lock:
            self.objects[name] = path.read_bytes()
        return True


def cache_of(**backends: CacheBackend) -> BinaryCache:
    """A binary cache of these backends, by name."""
    return BinaryCache(backends)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The warnings of the binary cache."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "pip_accel.caches.binary_cache" and record.levelno == logging.WARNING
    ]


def test_backends_are_asked_in_order_of_priority(tmp_path: Path) -> None:
    """Lower priority first, whatever the order of the mapping; fetch asks each until a hit."""
    calls: list[str] = []
    slow = SharingBackend(50, calls)
    fast = SharingBackend(10, calls)
    middle = SharingBackend(20, calls)
    cache = cache_of(slow=slow, fast=fast, middle=middle)
    assert [slot.name for slot in cache.slots] == ["fast", "middle", "slow"]
    slow.objects["plans/x.json"] = b"{}"
    assert cache.fetch("plans/x.json", tmp_path / "x.json") == tmp_path / "x.json"
    assert calls == ["10:fetch plans/x.json", "20:fetch plans/x.json", "50:fetch plans/x.json"]


def test_fetch_returns_the_first_hit_and_asks_no_further(tmp_path: Path) -> None:
    """The first sharing backend that has the object answers; backends after it are not asked."""
    calls: list[str] = []
    first, second, third = (SharingBackend(number, calls) for number in (1, 2, 3))
    second.objects["trees/t.tar.gz"] = b"second"
    third.objects["trees/t.tar.gz"] = b"third"
    cache = cache_of(first=first, second=second, third=third)
    assert cache.fetch("trees/t.tar.gz", tmp_path / "t") == tmp_path / "t"
    assert (tmp_path / "t").read_bytes() == b"second"
    assert calls == ["1:fetch trees/t.tar.gz", "2:fetch trees/t.tar.gz"]
    assert cache.fetch("trees/missing", tmp_path / "m") is None
    assert not (tmp_path / "m").exists()


def test_fetch_skips_backends_that_do_not_share(tmp_path: Path) -> None:
    """A backend without ``fetch`` (the local one) is never asked for a named object."""
    calls: list[str] = []
    cache = cache_of(local=Backend(1, calls), shared=SharingBackend(2, calls))
    assert cache.fetch("plans/x.json", tmp_path / "x") is None
    assert calls == ["2:fetch plans/x.json"]


def test_store_goes_only_to_writable_sharing_backends(tmp_path: Path) -> None:
    """A read-only sharing backend and a backend that does not share are not given the object."""
    calls: list[str] = []
    writable = SharingBackend(1, calls)
    readonly = SharingBackend(2, calls, writable=False)
    local = Backend(3, calls)
    cache = cache_of(writable=writable, readonly=readonly, local=local)
    path = tmp_path / "plan.json"
    path.write_bytes(b"a plan")
    assert cache.store(path, "plans/k.json") is True
    assert calls == ["1:store plans/k.json"]
    assert writable.objects == {"plans/k.json": b"a plan"}
    assert readonly.objects == {}


def test_store_says_whether_any_backend_took_the_object(tmp_path: Path) -> None:
    """With no writable sharing backend, store is False and nothing is called."""
    calls: list[str] = []
    cache = cache_of(readonly=SharingBackend(1, calls, writable=False), local=Backend(2, calls))
    path = tmp_path / "plan.json"
    path.write_bytes(b"a plan")
    assert cache.store(path, "plans/k.json") is False
    assert calls == []


def test_shared_and_shares_writes_follow_the_backends() -> None:
    """``shared``: a backend has fetch; ``shares_writes``: one of those is writable."""
    assert not cache_of(local=Backend(1)).shared
    assert not cache_of(local=Backend(1)).shares_writes
    readonly = cache_of(local=Backend(1), s3=SharingBackend(2, writable=False))
    assert readonly.shared
    assert not readonly.shares_writes
    assert cache_of(s3=SharingBackend(2)).shares_writes


def test_connect_connects_the_sharing_backends_only() -> None:
    """connect calls each backend that has ``connect``, once."""
    calls: list[str] = []
    cache_of(local=Backend(1, calls), s3=SharingBackend(2, calls)).connect()
    assert calls == ["2:connect"]


def test_a_corrupt_object_leaves_the_backend_enabled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """CorruptObjectError: one warning with its message, None, and the backend is still used."""
    backend = SharingBackend(1)
    backend.objects["plans/good.json"] = b"good"
    backend.error = CorruptObjectError("The object s3://b/plans/bad.json is corrupt.")
    cache = cache_of(s3=backend)
    with caplog.at_level(logging.WARNING):
        assert cache.fetch("plans/bad.json", tmp_path / "bad") is None
    assert warnings_of(caplog) == [
        "The object s3://b/plans/bad.json is corrupt. It is left alone; the install goes on"
        " without it."
    ]
    backend.error = None
    assert [slot.name for slot in cache.slots] == ["s3"]
    assert cache.fetch("plans/good.json", tmp_path / "good") == tmp_path / "good"
    assert cache.shares_writes
    assert cache.refused == {"plans/bad.json"}, "noted, so that no one warns of it as missing"


def test_a_failing_backend_is_disabled_once_from_many_threads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Eight threads fail in the same backend at once: one warning, and it is asked no more."""
    calls: list[str] = []
    failing = SharingBackend(1, calls)
    failing.error = CacheError("Could not reach the bucket")
    failing.barrier = threading.Barrier(THREADS)
    other = SharingBackend(2, calls)
    other.objects["plans/k.json"] = b"from the other"
    cache = cache_of(failing=failing, other=other)
    with caplog.at_level(logging.WARNING), ThreadPoolExecutor(THREADS) as pool:
        targets = [tmp_path / f"plan-{number}.json" for number in range(THREADS)]
        found = list(pool.map(lambda target: cache.fetch("plans/k.json", target), targets))
    assert found == targets, "the other backend answered every thread"
    assert calls.count("1:fetch plans/k.json") == THREADS
    (warning,) = warnings_of(caplog)
    assert warning.startswith("Not using the failing cache backend for the rest of this run")
    assert warning.endswith(": Could not reach the bucket")
    assert [slot.name for slot in cache.slots] == ["other"]
    calls.clear()
    assert cache.fetch("plans/k.json", tmp_path / "again") is not None
    assert calls == ["2:fetch plans/k.json"]


def test_a_refused_write_makes_the_backend_read_only_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """CacheWriteRefusedError from many threads: one warning, no more stores, reads go on."""
    calls: list[str] = []
    backend = SharingBackend(1, calls)
    backend.objects["plans/k.json"] = b"plan"
    backend.error = CacheWriteRefusedError("S3 denied the upload (AccessDenied)")
    backend.barrier = threading.Barrier(THREADS)
    cache = cache_of(s3=backend)
    path = tmp_path / "object"
    path.write_bytes(b"data")
    with caplog.at_level(logging.WARNING), ThreadPoolExecutor(THREADS) as pool:
        stored = list(pool.map(lambda n: cache.store(path, f"trees/{n}"), range(THREADS)))
    assert stored == [False] * THREADS
    assert warnings_of(caplog) == [
        "The s3 cache backend is read-only for the rest of this run:"
        " S3 denied the upload (AccessDenied)"
    ]
    assert not cache.shares_writes
    assert cache.store(path, "trees/late") is False
    assert "1:store trees/late" not in calls
    backend.error = None
    assert cache.fetch("plans/k.json", tmp_path / "k") == tmp_path / "k", "still read"


def test_get_sources_gives_every_backend_every_project(tmp_path: Path) -> None:
    """The projects (a generator) reach each backend whole; their archives are put together."""
    asked: list[tuple[str, list[str]]] = []

    class Sources(Backend):
        def get_sources(self, directory: Path, projects: Iterable[str]) -> list[Path]:
            asked.append((str(self.priority), list(projects)))
            return [directory / f"{project}-{self.priority}.tar.gz" for project in projects]

    cache = cache_of(one=Sources(1), two=Sources(2), plain=Backend(3))
    fetched = cache.get_sources(tmp_path, (name for name in ("chain-b", "chain-c")))
    assert asked == [("1", ["chain-b", "chain-c"]), ("2", ["chain-b", "chain-c"])]
    assert [path.name for path in fetched] == [
        "chain-b-1.tar.gz", "chain-c-1.tar.gz", "chain-b-2.tar.gz", "chain-c-2.tar.gz",
    ]  # fmt: skip


def test_a_hit_is_copied_into_the_faster_backends(tmp_path: Path) -> None:
    """A wheel found in a slower backend is put into the faster one and returned from there."""
    calls: list[str] = []
    fast = Backend(1, calls, remote=False)
    slow = Backend(2, calls)
    wheel = tmp_path / "purepkg-1.0-py3-none-any.whl"
    slow.wheels[KEY] = wheel
    cache = cache_of(fast=fast, slow=slow)
    assert cache.get(KEY) == wheel
    assert fast.wheels == {KEY: wheel}
    assert calls == ["1:get", "2:get", "1:put", "1:get"]


def test_a_hit_after_a_disabled_backend_is_not_copied_back_into_its_own_backend(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The fast backend fails during get: the slow one's hit is not put into the slow one again."""
    calls: list[str] = []
    fast = Backend(1, calls, remote=False)
    fast.error = CacheError("the disk is gone")
    slow = Backend(2, calls)
    wheel = tmp_path / "purepkg-1.0-py3-none-any.whl"
    slow.wheels[KEY] = wheel
    cache = cache_of(fast=fast, slow=slow)
    with caplog.at_level(logging.WARNING):
        assert cache.get(KEY) == wheel
    assert calls == ["1:get", "2:get"], "no upload of the wheel where it was, no second download"


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("Chain_B-1.0.tar.gz", "sources/chain-b/Chain_B-1.0.tar.gz"),
        ("zope.interface-6.0.zip", "sources/zope-interface/zope.interface-6.0.zip"),
        (
            "Pure.Pkg-2.0-py3-none-any.whl",
            "sources/pure-pkg/Pure.Pkg-2.0-py3-none-any.whl",
        ),
        ("README.txt", None),
        ("noversion.tar.gz", None),
        ("not-a-wheel.whl", None),
    ],
)
def test_source_object_is_under_the_canonical_project_name(
    filename: str, expected: str | None
) -> None:
    """Archives go under their project's canonical name; a name that says no project is None."""
    assert source_object(filename) == expected


class Body:
    """The body of a stand-in S3 response."""

    def __init__(self, data: bytes) -> None:
        """Serve ``data``."""
        self.data = data

        self.position = 0
        self.closed = False

    def iter_chunks(self, size: int) -> list[bytes]:
        """The data in pieces of ``size`` bytes."""
        return [self.data[start : start + size] for start in range(0, len(self.data), size)]

    def read(self, size: int | None = None) -> bytes:
        """The next ``size`` bytes (all that is left when None)."""
        end = len(self.data) if size is None else self.position + size
        data, self.position = self.data[self.position : end], min(end, len(self.data))
        return data

    def close(self) -> None:
        """Note that the body was closed."""
        self.closed = True


class Client:
    """A stand-in boto3 client of one bucket: get, head and put of objects in a dict.

    Its methods take boto3's keyword arguments, capitalized as boto3 has them.
    """

    def __init__(self) -> None:
        """An empty bucket."""
        self.objects: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.puts: list[str] = []

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        """An object as boto3 gives it."""
        data, metadata = self.objects[Key]
        return {"Body": Body(data), "Metadata": metadata}

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        """An object's head (only existing objects are asked in these tests)."""
        return {"Metadata": self.objects[Key][1]}

    def put_object(self, Bucket: str, Key: str, Body: Any, Metadata: dict[str, str]) -> None:
        """Keep an object."""
        self.puts.append(Key)
        self.objects[Key] = (Body.read(), Metadata)


def s3_backend(tmp_path: Path, **overrides: Any) -> tuple[S3CacheBackend, Client]:
    """An S3 backend under the prefix ``ci``, with a stand-in client in place of boto3's."""
    options = {"data-directory": str(tmp_path / "data"), "s3-bucket": "bucket", **overrides}
    backend = S3CacheBackend(Config(overrides={"s3-prefix": "ci", **options}, environ={}))
    client = Client()
    backend.__dict__["client"] = client  # the cached property, made: no boto3
    return backend, client


def sha256(data: bytes) -> str:
    """The sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def test_s3_fetch_checks_the_sha256_it_is_given(tmp_path: Path) -> None:
    """fetch writes the object below the root; other contents raise CorruptObjectError."""
    backend, client = s3_backend(tmp_path)
    client.objects["ci/v2/plans/k.json"] = (b"plan", {"sha256": sha256(b"plan")})
    target = tmp_path / "out" / "k.json"
    assert backend.fetch("plans/k.json", target, sha256(b"plan")) == target
    assert target.read_bytes() == b"plan"
    other = tmp_path / "out" / "other.json"
    with pytest.raises(CorruptObjectError, match=r"ci/v2/plans/k\.json is corrupt"):
        backend.fetch("plans/k.json", other, sha256(b"another plan"))
    assert sorted(path.name for path in other.parent.iterdir()) == ["k.json"], "no partial file"


def test_s3_fetch_checks_the_sha256_stored_with_the_object(tmp_path: Path) -> None:
    """Without a sha256 to check, the one in the object's metadata is checked."""
    backend, client = s3_backend(tmp_path)
    client.objects["ci/v2/trees/t.tar.gz"] = (b"damaged", {"sha256": sha256(b"tree")})
    with pytest.raises(CorruptObjectError):
        backend.fetch("trees/t.tar.gz", tmp_path / "t.tar.gz")
    assert not (tmp_path / "t.tar.gz").exists()


def first_bytes(stream: BinaryIO) -> bytes:
    """A reader of a streamed object that reads only its start, as tar stops at its end."""
    return stream.read(4)


def test_s3_stream_checks_the_whole_object_once_the_reader_is_done(tmp_path: Path) -> None:
    """stream gives what the reader made of the object once the whole object (the rest read
    after the reader) has its sha256; otherwise CorruptObjectError, and the object is refused
    for the rest of the run."""
    backend, client = s3_backend(tmp_path)
    client.objects["ci/v2/trees/t.tar.gz"] = (b"tree archive", {"sha256": sha256(b"tree archive")})
    assert backend.stream("trees/t.tar.gz", first_bytes) == b"tree"
    client.objects["ci/v2/trees/t.tar.gz"] = (b"tree archivX", {"sha256": sha256(b"tree archive")})
    read: list[bytes] = []
    with pytest.raises(CorruptObjectError, match=r"ci/v2/trees/t\.tar\.gz is corrupt"):
        backend.stream("trees/t.tar.gz", lambda stream: read.append(first_bytes(stream)))
    assert read == [b"tree"], "the reader ran first: the check is at the end"
    assert backend.stream("trees/t.tar.gz", first_bytes) is None, "refused from then on"


def test_a_readers_failure_is_raised_only_for_a_sound_object(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """BinaryCache.stream raises the reader's own exception once the object passed its
    checks; for a corrupt object it is the one warning of a corrupt object, and None."""
    backend, client = s3_backend(tmp_path)
    cache = cache_of(s3=backend)

    def unreadable(stream: BinaryIO) -> bytes:
        stream.read(4)
        raise ValueError("not a tree archive")

    client.objects["ci/v2/trees/a.tar.gz"] = (b"sound", {"sha256": sha256(b"sound")})
    with pytest.raises(ValueError, match="not a tree archive"):
        cache.stream("trees/a.tar.gz", unreadable)
    client.objects["ci/v2/trees/b.tar.gz"] = (b"damaged", {"sha256": sha256(b"sound")})
    assert cache.stream("trees/b.tar.gz", unreadable) is None
    assert cache.refused == {"trees/b.tar.gz"}
    assert len(warnings_of(caplog)) == 1 and "is corrupt" in warnings_of(caplog)[0]
    assert cache.shared, "the backend stays in use"


def test_a_backend_without_stream_is_streamed_from_its_fetch(tmp_path: Path) -> None:
    """The contract's default stream fetches the object whole, then gives it to the reader."""
    backend = SharingBackend(1)
    backend.objects["trees/t.tar.gz"] = b"tree archive"
    cache = cache_of(shared=backend)
    assert cache.stream("trees/t.tar.gz", first_bytes) == b"tree"
    assert cache.stream("trees/none.tar.gz", first_bytes) is None
    assert backend.calls == ["1:fetch trees/t.tar.gz", "1:fetch trees/none.tar.gz"]


def test_s3_store_skips_an_object_the_bucket_has(tmp_path: Path) -> None:
    """store is False and uploads nothing when the object exists; read-only stores nothing."""
    backend, client = s3_backend(tmp_path)
    client.objects["ci/v2/plans/k.json"] = (b"plan", {})
    path = tmp_path / "plan.json"
    path.write_bytes(b"new plan")
    assert backend.store(path, "plans/k.json") is False
    assert client.puts == []
    readonly, client = s3_backend(tmp_path, **{"s3-readonly": "true"})
    assert readonly.store(path, "plans/other.json") is False
    assert client.puts == []


def test_s3_replace_uploads_over_an_object_the_bucket_has(tmp_path: Path) -> None:
    """replace is store without the look: the caller found the object damaged."""
    backend, client = s3_backend(tmp_path)
    client.objects["ci/v2/plans/k.json"] = (b"garbage", {"sha256": sha256(b"garbage")})
    path = tmp_path / "plan.json"
    path.write_bytes(b"new plan")
    assert backend.replace(path, "plans/k.json") is True
    assert client.objects["ci/v2/plans/k.json"] == (b"new plan", {"sha256": sha256(b"new plan")})
    readonly, client = s3_backend(tmp_path, **{"s3-readonly": "true"})
    assert readonly.replace(path, "plans/k.json") is False
    assert client.puts == []


def test_s3_store_replaces_an_object_found_corrupt_in_this_run(tmp_path: Path) -> None:
    """Contents that do not have the sha256 they were stored with: the writer's copy goes
    over them; an object that only is not the one a plan named (another build) is kept."""
    backend, client = s3_backend(tmp_path)
    client.objects["ci/v2/plans/k.json"] = (b"damaged", {"sha256": sha256(b"plan")})
    client.objects["ci/v2/ns/a/1.0/s/a.whl"] = (b"other build", {"sha256": sha256(b"other build")})
    with pytest.raises(CorruptObjectError):
        backend.fetch("plans/k.json", tmp_path / "k.json")
    with pytest.raises(CorruptObjectError):
        backend.fetch("ns/a/1.0/s/a.whl", tmp_path / "a.whl", sha256(b"this build"))
    path = tmp_path / "new"
    path.write_bytes(b"plan")
    assert backend.store(path, "plans/k.json") is True
    assert client.objects["ci/v2/plans/k.json"][0] == b"plan"
    assert backend.store(path, "ns/a/1.0/s/a.whl") is False
    assert client.puts == ["ci/v2/plans/k.json"]
    assert backend.store(path, "plans/k.json") is False, "replaced once, sound since"


def test_replace_reaches_each_kind_of_backend(tmp_path: Path) -> None:
    """BinaryCache.store(replace=True) calls replace; the contract's default and a duck-typed
    backend without replace store instead."""
    calls: list[str] = []

    class Replacing(SharingBackend):
        def replace(self, path: Path, name: str) -> bool:
            self._called(f"replace {name}")
            return True

    class Old:
        priority = 70

        def get(self, key: CacheKey) -> None:
            return None

        def put(self, key: CacheKey, wheel: Path) -> None:
            pass

        def fetch(self, name: str, target: Path, sha256: str | None = None) -> None:
            return None

        def store(self, path: Path, name: str) -> bool:
            calls.append(f"old store {name}")
            return True

    cache = BinaryCache({"a": Replacing(10, calls), "b": SharingBackend(20, calls), "c": Old()})
    path = tmp_path / "plan.json"
    path.write_bytes(b"{}")
    assert cache.store(path, "plans/x.json", replace=True)
    assert calls == ["10:replace plans/x.json", "20:store plans/x.json", "old store plans/x.json"]
    calls.clear()
    assert cache.store(path, "plans/x.json")
    assert calls == ["10:store plans/x.json", "20:store plans/x.json", "old store plans/x.json"]


def test_s3_fetch_refuses_an_object_without_a_recorded_sha256(tmp_path: Path) -> None:
    """An object stored by something else, with no sha256 to check it by, is not trusted."""
    backend, client = s3_backend(tmp_path)
    client.objects[f"{backend.root}/trees/x.tar.gz"] = (b"anything", {})
    with pytest.raises(CorruptObjectError, match="no recorded sha256"):
        backend.fetch("trees/x.tar.gz", tmp_path / "x.tar.gz")
    assert not (tmp_path / "x.tar.gz").exists()


class OnlyWheels(CacheBackend):
    """The smallest backend: ``get`` and ``put``, everything else the contract's defaults."""

    def get(self, key: CacheKey) -> Path | None:
        """No wheel."""
        return None

    def put(self, key: CacheKey, wheel: Path) -> None:
        """Keep nothing."""


def test_the_contracts_defaults_do_nothing(tmp_path: Path) -> None:
    """A backend of two methods is enabled, writable, remote, shares nothing and keeps nothing."""
    backend = OnlyWheels()
    assert (backend.enabled, backend.writable, backend.remote) == (True, True, True)
    assert backend.priority == 100 and not backend.shares_objects
    assert backend.get_sources(tmp_path, ["demo"]) == []
    assert backend.fetch("plans/x.json", tmp_path / "x") is None
    assert backend.store(tmp_path, "plans/x.json") is False
    backend.put_source(tmp_path / "demo-1.0.tar.gz")
    backend.connect()
    cache = cache_of(only=backend)
    assert not cache.shared and not cache.shares_writes
    assert cache.fetch("plans/x.json", tmp_path / "x") is None
    assert not cache.store(tmp_path, "plans/x.json")


def test_get_and_put_must_be_written() -> None:
    """A subclass without ``get`` or ``put`` cannot be made: load_backends then warns."""

    class Incomplete(CacheBackend):
        def get(self, key: CacheKey) -> Path | None:
            return None

    with pytest.raises(TypeError, match="put"):
        Incomplete()  # type: ignore[abstract]


def test_sharing_is_declared_in_the_class_line() -> None:
    """``shares_objects=True`` in the class line is the backend's, and its subclasses'."""
    assert SharingBackend.shares_objects and not Backend.shares_objects
    assert S3CacheBackend.shares_objects

    class Quieter(SharingBackend):
        pass

    assert Quieter.shares_objects


class DuckBackend:
    """A backend of pip-accel 1.1's contract: it does not subclass CacheBackend."""

    priority = 20
    remote = False

    def __init__(self) -> None:
        """A read-only backend that keeps one wheel and one named object."""
        self.writable = False
        self.wheels: dict[CacheKey, Path] = {}
        self.connected = False

    def get(self, key: CacheKey) -> Path | None:
        """The wheel of ``key``, if any."""
        return self.wheels.get(key)

    def put(self, key: CacheKey, wheel: Path) -> None:
        """Keep ``wheel``."""
        self.wheels[key] = wheel

    def connect(self) -> None:
        """Remember the call."""
        self.connected = True

    def fetch(self, name: str, target: Path, sha256: str | None = None) -> Path | None:
        """Write the one object there is."""
        target.write_text(name)
        return target


def test_duck_typed_backends_still_work(tmp_path: Path) -> None:
    """A backend that does not subclass the contract is adapted: its attributes and methods."""
    duck = DuckBackend()
    duck.wheels[KEY] = tmp_path / "purepkg-1.0-py3-none-any.whl"
    cache = BinaryCache({"duck": duck})
    (slot,) = cache.slots
    assert (slot.backend.priority, slot.remote, slot.writable) == (20, False, False)
    assert cache.get(KEY, remote=False) == tmp_path / "purepkg-1.0-py3-none-any.whl"
    assert cache.shared and not cache.shares_writes
    assert cache.fetch("plans/a.json", tmp_path / "a") == tmp_path / "a"
    cache.connect()
    assert duck.connected
    assert cache.get_sources(tmp_path, ["purepkg"]) == []
    duck.writable = True
    assert slot.writable, "the adapter reads the backend's attribute when it is used"


class MemoryBackend:
    """A backend of the unit tests below: wheels in a directory, optionally failing."""

    def __init__(self, directory: Path, priority: int, remote: bool, fail: Exception | None):
        """Keep wheels in ``directory``; raise ``fail`` from every ``put`` when given."""
        self.directory, self.priority, self.remote, self.fail = directory, priority, remote, fail
        directory.mkdir(parents=True)

    def get(self, key: CacheKey) -> Path | None:
        """The stored wheel of ``key``'s project, if any."""
        found = sorted(self.directory.glob(f"{key.name}-*.whl"))
        return found[0] if found else None

    def put(self, key: CacheKey, wheel: Path) -> None:
        """Store a copy of ``wheel``, or fail as told."""
        if self.fail is not None:
            raise self.fail
        (self.directory / wheel.name).write_bytes(wheel.read_bytes())


def test_binary_cache_copies_remote_hits_and_disables_failing_backends(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Unit level: the manager's rules, with backends that fail in the two ways there are."""
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    key = CacheKey("ns", "demo", "1.0", "0" * 64)
    local = MemoryBackend(tmp_path / "local", 10, False, None)
    remote = MemoryBackend(tmp_path / "remote", 50, True, None)
    remote.put(key, wheel)
    cache = BinaryCache({"remote": remote, "local": local})
    assert cache.get(key, remote=False) is None, "a local-only lookup asked the remote backend"
    assert cache.get(key) == tmp_path / "local" / wheel.name, "the remote hit was not copied"
    refusing = MemoryBackend(tmp_path / "refusing", 20, True, CacheWriteRefusedError("no"))
    broken = MemoryBackend(tmp_path / "broken", 30, True, OSError("disk on fire"))
    cache = BinaryCache({"refusing": refusing, "broken": broken})
    assert cache.put(key, wheel) is None
    assert "The refusing cache backend is read-only for the rest of this run" in caplog.text
    assert "Not using the broken cache backend for the rest of this run" in caplog.text
    assert "disk on fire" in caplog.text
    assert [slot.name for slot in cache.slots] == ["refusing"]
    assert not cache.slots[0].writable
