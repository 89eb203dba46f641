"""Build hook: copy the top-level ``themes/*.yaml`` and ``sample_config.yaml`` into the wheel as
``sre_cockpit/_bundled/`` so an installed cockpit finds them (``sre_cockpit.core.resources``).
Everything else is declared in ``pyproject.toml``."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithData(build_py):  # type: ignore[misc]
    """``build_py`` that also bundles the repository's themes and sample config."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from the checkout
        target = Path(self.build_lib) / "sre_cockpit" / "_bundled"
        (target / "themes").mkdir(parents=True, exist_ok=True)
        for theme in sorted((ROOT / "themes").glob("*.yaml")):
            shutil.copy2(theme, target / "themes" / theme.name)
        shutil.copy2(ROOT / "sample_config.yaml", target / "sample_config.yaml")


setup(cmdclass={"build_py": BuildPyWithData})
