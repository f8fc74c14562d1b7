"""What every test shares: fixture projects, the package index, S3 and other servers, venvs.

``fixtures`` writes the fixture projects and archives, ``helpers`` runs pip and pip-accel in
isolation and compares environments, ``servers`` holds the servers of the network tests
(proxies, TLS, authentication). ``tests/conftest.py`` turns them into pytest fixtures for
``tests/unit`` and ``tests/e2e`` alike.
"""

from pathlib import Path

#: The ``tests`` directory: its ``data`` holds captured build output.
TESTS = Path(__file__).resolve().parent.parent

#: The checkout: its ``config`` holds the sample configuration files.
CHECKOUT = TESTS.parent
