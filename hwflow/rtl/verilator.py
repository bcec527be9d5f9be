"""Build the Verilator model of a design once (cached by content hash) and run samples through it."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from hwflow.errors import HwflowError
from hwflow.rtl import tools
from hwflow.rtl.block import TOP

# -MAKEFLAGS VK_PCH_I_*=: the PyPI wheel's verilated.mk passes its precompiled headers as input files
# (its CFG_CXXFLAGS_PCH_I is empty), which fails once a model spans several C++ files; no PCH then.
FLAGS = ("--cc", "--exe", "--build", "-j", "2", "-O3", "-Wno-fatal", "-Wno-lint", "-Wno-style",
         "--x-assign", "unique", "--x-initial", "unique", "-CFLAGS", "-O1",
         "-MAKEFLAGS", "VK_PCH_I_FAST=", "-MAKEFLAGS", "VK_PCH_I_SLOW=")


def cache_root() -> Path:
    """$HWFLOW_CACHE/verilator, default ~/.cache/hwflow/verilator."""
    base = Path(os.environ.get("HWFLOW_CACHE", Path.home() / ".cache" / "hwflow"))
    return base / "verilator"


def build(design_dir: Path, sources: list[Path], testbench: Path, top: str = TOP,
          defines: dict[str, str | int] | None = None) -> Path:
    """The simulator binary V<top> of these sources: built once per content (ROM files are read at run time).

    defines: preprocessor macros of the testbench (-CFLAGS -DNAME=VALUE)."""
    cmd = tools.verilator()
    flags = (*FLAGS, "--top-module", top, *(a for k, v in (defines or {}).items() for a in ("-CFLAGS", f"-D{k}={v}")))
    digest = hashlib.sha256(tools.version(tuple(cmd)).encode() + " ".join(flags).encode())
    for path in [*sources, testbench]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    target = cache_root() / digest.hexdigest()[:20]
    binary = target / f"V{top}"
    if binary.is_file():
        return binary
    cache_root().mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_root()))
    try:
        for path in [*sources, testbench]:
            shutil.copy(path, work / path.name)
        run = subprocess.run([*cmd, *flags, "-Mdir", "obj", testbench.name, *[p.name for p in sources]],
                             cwd=work, capture_output=True, text=True)
        if run.returncode != 0 or not (work / "obj" / f"V{top}").is_file():
            raise HwflowError(f"Verilator could not build {design_dir}: {tools.first_errors(run.stdout + run.stderr)}")
        target.mkdir(exist_ok=True)
        os.replace(work / "obj" / f"V{top}", binary)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return binary
