"""The package as a user installs it: a wheel carries the built-in templates and finds them outside the repo."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from .conftest import REPO


def test_wheel_carries_templates_and_finds_them(tmp_path: Path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("opsflow-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for template in sorted((REPO / "templates").rglob("*.j2")):
        assert f"opsflow/templates/{template.relative_to(REPO / 'templates').as_posix()}" in names
    assert {"opsflow/examples/example-seminar.toml", "opsflow/examples/registrants/example-seminar.csv"} <= set(names)
    revisions = sorted((REPO / "opsflow" / "store" / "alembic").rglob("*.py"))
    assert revisions and {f"opsflow/{p.relative_to(REPO / 'opsflow').as_posix()}" for p in revisions} <= set(names)

    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    probe = subprocess.run(
        [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
         "from opsflow.core.resources import builtin_templates_dir as d; print(d()); print((d() / 'ja' / 'invitation.j2').is_file())",
         str(target)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == [str(target / "opsflow" / "templates"), "True"]


def test_checkout_finds_templates():
    from opsflow.core.resources import builtin_templates_dir

    assert builtin_templates_dir() == REPO / "templates"
    assert (builtin_templates_dir() / "en" / "invitation.j2").is_file()


def test_each_subpackage_names_every_module_it_holds():
    """The layout is the map: each subpackage's docstring names each of its modules."""
    package = REPO / "opsflow"
    for init in package.glob("*/__init__.py"):
        doc = init.read_text(encoding="utf-8").split('"""')[1]
        modules = [p.stem for p in init.parent.glob("*.py") if p.stem not in ("__init__", "__main__")]
        missing = [m for m in modules if f"`{m}`" not in doc]
        assert missing == [], f"{init.relative_to(REPO)} does not name {missing}"
