"""Contact with pip: its command line read by its own parsers, the pip commands pip-accel runs,
running them, and reading pip's output.

Only this package (and :mod:`pip_accel.sources.pip_finder`, pip's finder in process) puts
pip command lines together, runs pip and reads what it says.
"""
