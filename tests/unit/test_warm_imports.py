"""The modules of the warm path import none of the cold parts: downloads, builds, fleet, S3.

An install from a stored plan needs the plan, the trees and the installer; the parts
that fetch, build or talk to a bucket are imported only when a run has no usable plan
(see :mod:`pip_accel.accelerator`). Each import costs start-up time on every warm run,
so a module that starts to import one of them at its top shows here.
"""

import subprocess
import sys

from support.imports import cold_modules

WARM = (
    "pip_accel.cli.main",
    "pip_accel.accelerator",
    "pip_accel.parts",
    "pip_accel.upkeep.eviction",  # at the end of every install, for the size bound
)
"""The modules a warm install imports, besides what they import themselves."""


def test_the_warm_modules_import_no_cold_part() -> None:
    """Importing the modules of the warm path (in a fresh interpreter) imports no cold part."""
    code = f"import sys; import {', '.join(WARM)}; print('\\n'.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert cold_modules(result.stdout.split()) == []
    assert "pip_accel.plan.stored" in result.stdout.split(), "the control import is missing"
