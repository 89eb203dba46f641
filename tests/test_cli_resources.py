"""Shipped files (themes, sample config) are found from a checkout and from an installed wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sre_cockpit.config.model import load_config
from sre_cockpit.core import resources as resources

REPO = Path(__file__).resolve().parents[1]


def test_checkout_paths_first() -> None:
    assert resources.checkout_root() == REPO
    assert resources.themes_dir() == REPO / "themes"
    assert resources.sample_config_path() == REPO / "sample_config.yaml"
    load_config(resources.sample_config_path())


@pytest.mark.slow
def test_wheel_bundles_themes_and_sample_config(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "sample_config.yaml", "README.md"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, src / name)
    if not (src / "README.md").exists():
        (src / "README.md").write_text("sre-cockpit\n")
    (src / "themes").mkdir()
    for theme in (REPO / "themes").glob("*.yaml"):
        shutil.copy2(theme, src / "themes" / theme.name)
    if not any((src / "themes").glob("*.yaml")):  # themes not committed yet: bundle a stand-in
        (src / "themes" / "stand-in.yaml").write_text("name: stand-in\n")
    shutil.copytree(REPO / "sre_cockpit", src / "sre_cockpit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "-w", str(dist),
                            "--no-deps", "-q"], capture_output=True, text=True, timeout=300,
                           check=False)
    if build.returncode != 0 and "satisfies the requirement" in build.stderr:
        pytest.skip("no package index for the isolated build backend")
    assert build.returncode == 0, build.stderr
    wheel = next(dist.glob("sre_cockpit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    themes = sorted(p.name for p in (src / "themes").glob("*.yaml"))
    for theme in themes:
        assert f"sre_cockpit/_bundled/themes/{theme}" in names
    assert "sre_cockpit/_bundled/sample_config.yaml" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import sre_cockpit, sre_cockpit.core.resources as r\n"
        "assert sre_cockpit.__file__.startswith(sys.argv[1]), sre_cockpit.__file__\n"
        "assert r.checkout_root() is None\n"
        "print(r.themes_dir()); print(r.sample_config_path())\n"
        "print(sorted(p.name for p in r.themes_dir().glob('*.yaml')))\n"
        "from sre_cockpit.config.model import load_config; load_config(r.sample_config_path())\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(site)], capture_output=True,
                            text=True, timeout=60, check=False, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    themes_line, sample_line, listed = result.stdout.splitlines()
    assert themes_line == str(site / "sre_cockpit" / "_bundled" / "themes")
    assert sample_line == str(site / "sre_cockpit" / "_bundled" / "sample_config.yaml")
    assert listed == repr(themes)
