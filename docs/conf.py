"""Sphinx configuration of the pip-accel documentation.

Built with ``sphinx-build -W --keep-going -b html docs <output>``: every
warning is an error. Nothing here needs the network.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# autodoc imports pip_accel from the checkout, installed or not.
sys.path.insert(0, str(ROOT))


def read_version() -> str:
    """Read ``__version__`` from ``pip_accel/__init__.py`` without importing it."""
    text = (ROOT / "pip_accel" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
    if not match:
        raise RuntimeError("pip_accel/__init__.py defines no __version__")
    return match.group(1)


project = "pip-accel"
author = "the pip-accel authors"
copyright = "pip-accel authors, MIT License"
release = read_version()
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
nitpicky = False

# Docstrings are plain reStructuredText with :param: fields.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"

html_theme = "alabaster"
html_title = f"pip-accel {release}"
html_theme_options = {
    "description": "A drop-in wrapper around pip: local index, binary cache, offline installs.",
    "fixed_sidebar": False,
}
html_static_path: list[str] = []
