"""The command line: ``pip-accel install`` and the other pip commands, ``cache``, and help."""
