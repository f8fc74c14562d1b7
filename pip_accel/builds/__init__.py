"""Wheels built from sdists: the builder, the settings in a build's cache key, system packages."""
