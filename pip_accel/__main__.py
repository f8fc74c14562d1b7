"""Run pip-accel as ``python -m pip_accel``."""

import sys

from pip_accel.cli.main import main

sys.exit(main())
