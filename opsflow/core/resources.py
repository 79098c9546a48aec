"""Where the built-in files live: `opsflow/templates` in an installed wheel, `templates/` in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # the opsflow package


def builtin_templates_dir() -> Path:
    """The built-in mail templates (`ja/`, `en/`), wherever opsflow is installed."""
    installed = _PACKAGE / "templates"  # a wheel puts the top-level templates/ here
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / "templates"  # an editable install or a checkout


def example_files() -> tuple[Path, Path]:
    """The example job file and its registrants CSV (installed with the package, or from the checkout)."""
    installed = _PACKAGE / "examples"
    if (installed / "example-seminar.toml").is_file():
        return installed / "example-seminar.toml", installed / "registrants" / "example-seminar.csv"
    jobs = _PACKAGE.parent / "jobs"
    return jobs / "example-seminar.toml", jobs / "registrants" / "example-seminar.csv"
