"""Where the C++ templates and the YAML model zoo are, in a source checkout and in an installed wheel.

A wheel carries them inside the package (hwflow/hls_templates, hwflow/models; see pyproject.toml);
a checkout (editable install) has them beside the package, at the repository's top level.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder `name` ('hls_templates' or 'models') inside the installed package or beside it."""
    for folder in (PACKAGE / name, PACKAGE.parent / name):
        if folder.is_dir():
            return folder
    raise FileNotFoundError(f"hwflow's {name}/ folder is missing from {PACKAGE} and {PACKAGE.parent}; "
                            "reinstall hwflow")


def checkout_root() -> Path | None:
    """The source checkout holding this package (its pyproject.toml), or None for an installed wheel."""
    return PACKAGE.parent if (PACKAGE.parent / "pyproject.toml").is_file() else None


TEMPLATE_DIR = data_dir("hls_templates")
ZOO_DIR = data_dir("models")
