"""Files shipped next to the package: ``themes/*.yaml`` and ``sample_config.yaml``.

In a source checkout (and an editable install, which runs from it) they live at the top of the
repository; a wheel carries copies in ``sre_cockpit/_bundled/`` (see ``setup.py``). The checkout
is looked at first so edits show up without reinstalling.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_BUNDLED = "_bundled"


def checkout_root() -> Path | None:
    """The repository root when running from a source checkout, else None."""
    root = _PACKAGE_DIR.parent
    pyproject = root / "pyproject.toml"
    try:
        if pyproject.is_file() and 'name = "sre-cockpit"' in pyproject.read_text("utf-8"):
            return root
    except OSError:
        return None
    return None


def _bundled_dir() -> Path:
    return Path(str(resources.files("sre_cockpit").joinpath(_BUNDLED)))


def themes_dir() -> Path:
    """Directory of the shipped ``*.yaml`` themes."""
    root = checkout_root()
    if root is not None:
        return root / "themes"
    return _bundled_dir() / "themes"


def sample_config_path() -> Path:
    """The shipped ``sample_config.yaml``."""
    root = checkout_root()
    if root is not None:
        return root / "sample_config.yaml"
    return _bundled_dir() / "sample_config.yaml"
