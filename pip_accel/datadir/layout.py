"""Every directory and name prefix of the data directory, named in one place.

::

   <data directory>/
      sources/                  the local index: every archive downloaded
         .sha256/<archive>      the sha256 record of each archive (also its last-use stamp)
         .damaged/              archives that were not the ones downloaded, kept aside
         .incoming-*/           a download in progress
         .pending-back-ends/    sdists whose build back-ends are still to be downloaded
      binaries/                 the local binary cache: wheels built from sdists
         .locks/                a lock per build and per entry
      trees/<cache tag>/        unpacked trees of wheels, their bytecode compiled
         .unpacking-*/          a tree being unpacked
         .damaged-*/            a damaged tree on its way out
      plans/<key>.json          stored plans
      freshness/<project>.json  when the package index was last asked about a project
      probes/                   what each target interpreter's probe answered
      starts/                   what pip's parser made of earlier command lines (warm starts)
      locks/                    the data directory's lock (cache.lock), one lock per environment
      tmp/                      runs' private directories: builds, the fleet's plans and trees

Every name that starts with a prefix here is a private directory of one run
(:mod:`pip_accel.datadir.scratch`): a run that dies leaves it behind, and the next
run removes it.

The module imports nothing, so that whatever needs a name of the data directory
(the warm path included) can have it without importing the part that fills it.
"""

SOURCES = "sources"
"""The local index."""

HASHES = ".sha256"
"""The subdirectory of the local index that remembers the sha256 of each archive."""

DAMAGED_SOURCES = ".damaged"
"""The subdirectory of the local index where archives that are not the ones downloaded are kept
for inspection."""

INCOMING_PREFIX = ".incoming-"
"""Downloads in progress, in the local index."""

PENDING_BACK_ENDS = ".pending-back-ends"
"""The directory of the local index that names the sdists whose build back-ends are yet to be
downloaded: a mark is made before an sdist enters the index and removed once its back-ends
are there, so that a run killed in between leaves the work to the next run."""

BINARIES = "binaries"
"""The local binary cache."""

LOCKS_OF_BINARIES = ".locks"
"""The lock files of builds and of the binary cache's entries, in the binary cache."""

SET_BUILD_LOCK = "whole-sets.lock"
"""The lock, in :data:`LOCKS_OF_BINARIES`, that a ``pip wheel`` of a whole requirement set
holds while it downloads and builds: a concurrent run waits, then takes those wheels."""

TREES = "trees"
"""The unpacked trees, in a directory per cache tag."""

UNPACKING_PREFIX = ".unpacking-"
"""Trees being unpacked, under a cache tag's directory."""

DAMAGED_TREE_PREFIX = ".damaged-"
"""Damaged trees on their way out, under a cache tag's directory."""

TREE_PREFIXES = (UNPACKING_PREFIX, DAMAGED_TREE_PREFIX)
"""The private directories of runs under a cache tag's directory."""

PLANS = "plans"
"""The stored plans."""

FRESHNESS = "freshness"
"""When the package index was last asked about each project."""

PROBES = "probes"
"""What each target interpreter's probe answered, kept per interpreter."""

STARTS = "starts"
"""What pip's parser made of earlier command lines, for warm starts."""

LOCKS = "locks"
"""The lock of the data directory and the locks of the environments pip-accel installs into."""

DATA_LOCK = "cache.lock"
"""The lock file of the data directory, in :data:`LOCKS`."""

SCRATCH = "tmp"
"""Runs' private directories that belong to no part."""

BUILD_PREFIX = "build-"
"""Builds of sdists, in :data:`SCRATCH`."""

FLEET_PLAN_PREFIX = "plan-"
"""Plans fetched from or stored into the fleet's bucket, in :data:`SCRATCH`."""

FLEET_TREE_PREFIX = "tree-"
"""Tree archives fetched from or stored into the fleet's bucket, in :data:`SCRATCH`."""

PARTS = (SOURCES, BINARIES, TREES, PLANS, FRESHNESS, PROBES, STARTS)
"""The directories that pip-accel keeps in the data directory (each checked to be writable)."""

LEFTOVERS = {
    SOURCES: (INCOMING_PREFIX,),
    SCRATCH: (BUILD_PREFIX, FLEET_PLAN_PREFIX, FLEET_TREE_PREFIX),
}
"""The private directories of runs, by the directory of the data directory that holds them (the
trees' own, below each cache tag, are :data:`TREE_PREFIXES`)."""
