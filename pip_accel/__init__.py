"""pip-accel: accelerator for pip, with a local index and a binary cache."""

__version__ = "1.2.0"
