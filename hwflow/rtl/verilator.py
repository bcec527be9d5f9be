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

FLAGS = ("--cc", "--exe", "--build", "-j", "2", "-O3", "--top-module", "hwflow_top", "-Wno-fatal", "-Wno-lint", "-Wno-style",
         "--x-assign", "unique", "--x-initial", "unique", "-CFLAGS", "-O1")


def cache_root() -> Path:
    """$HWFLOW_CACHE/verilator, default ~/.cache/hwflow/verilator."""
    base = Path(os.environ.get("HWFLOW_CACHE", Path.home() / ".cache" / "hwflow"))
    return base / "verilator"


def build(design_dir: Path, sources: list[Path], testbench: Path) -> Path:
    """The simulator binary of these sources: built once per content (the ROM files are read at run time)."""
    cmd = tools.verilator()
    digest = hashlib.sha256(tools.version(tuple(cmd)).encode() + " ".join(FLAGS).encode())
    for path in [*sources, testbench]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    target = cache_root() / digest.hexdigest()[:20]
    binary = target / "Vhwflow_top"
    if binary.is_file():
        return binary
    cache_root().mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_root()))
    try:
        for path in [*sources, testbench]:
            shutil.copy(path, work / path.name)
        run = subprocess.run([*cmd, *FLAGS, "-Mdir", "obj", testbench.name, *[p.name for p in sources]],
                             cwd=work, capture_output=True, text=True)
        if run.returncode != 0 or not (work / "obj" / "Vhwflow_top").is_file():
            raise HwflowError(f"Verilator could not build {design_dir}: {tools.first_errors(run.stdout + run.stderr)}")
        target.mkdir(exist_ok=True)
        os.replace(work / "obj" / "Vhwflow_top", binary)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return binary
