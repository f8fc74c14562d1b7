"""The modules that only a cold run imports: the warm path must import none of them."""

COLD = (
    "pip_accel.sources.download",
    "pip_accel.sources.pip_finder",
    "pip_accel.builds.builder",
    "pip_accel.builds.system",
    "pip_accel.plan.planner",
    "pip_accel.fleet",
    "pip_accel.caches.s3",
    "pip_accel.caches.s3_client",
    "pip_accel.caches.signing",
    "boto3",
    "cryptography",
)
"""The modules (and packages) that only a run without a usable plan imports."""


def cold_modules(names: list[str]) -> list[str]:
    """Those of the module names that are cold parts or lie inside one."""
    return sorted(name for name in names
                  if any(name == cold or name.startswith(cold + ".") for cold in COLD))  # fmt: skip
