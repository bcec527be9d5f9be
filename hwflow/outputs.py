"""hwflow's output folders: written whole or not at all, and never at the cost of a file hwflow did not write.

Every folder hwflow writes carries a manifest (MANIFEST) of the files it wrote there, as paths
relative to that folder. A file in an output folder that no manifest of the folder or of a folder
around it lists is *foreign* (the user's notes, Vivado reports, a tool's build). Writing into a
folder with foreign files is refused, naming them, unless `force`: then hwflow's outputs are
written around them and every foreign file stays where it was. A step writes into a temporary
folder beside its output folder, which takes the output's place only when the step succeeded.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from hwflow.errors import HwflowError

MANIFEST = ".hwflow-outputs.json"
SHOWN = 3  # foreign files named in a message


def entries(folder: Path) -> set[str]:
    """Every file and every empty folder below `folder`, as relative POSIX paths (manifests excluded)."""
    found = set()
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        found.update((rel / f).as_posix() for f in files if f != MANIFEST)
        if not dirs and not files and rel != Path("."):
            found.add(rel.as_posix())
    return found


def owned(folder: Path) -> set[str]:
    """The paths below `folder` that a manifest of it, of a folder inside it or of a folder around it lists."""
    folder = Path(folder).resolve()
    paths: set[str] = set()
    for manifest in folder.rglob(MANIFEST):
        prefix = manifest.parent.relative_to(folder)
        paths.update((prefix / p).as_posix() for p in read_manifest(manifest))
    for parent in folder.parents:
        manifest = parent / MANIFEST
        if manifest.is_file():
            inside = folder.relative_to(parent).as_posix() + "/"
            paths.update(p[len(inside):] for p in read_manifest(manifest) if p.startswith(inside))
    return paths


def read_manifest(path: Path) -> list[str]:
    try:
        return list(json.loads(path.read_text())["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def record(folder: Path, *paths: str) -> None:
    """Add paths (relative to `folder`) to the folder's manifest: hwflow wrote them there."""
    manifest = Path(folder) / MANIFEST
    files = sorted(set(read_manifest(manifest)) | set(paths))
    manifest.write_text(json.dumps({"files": files}, indent=0))


def write_file(folder: Path, name: str, data: str | bytes) -> Path:
    """Write folder/name (whole, through a temporary file) and record it; refused if a foreign file has the name."""
    folder, path = Path(folder), Path(folder) / name
    if path.exists() and name not in owned(folder):
        raise HwflowError(f"{path} was not written by hwflow; move it away, hwflow will not overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)
    record(folder, name)
    return path


def foreign(folder: Path) -> list[str]:
    """The files (and empty folders) below `folder` that hwflow did not write, sorted."""
    folder = Path(folder)
    if not folder.exists():
        return []
    if not folder.is_dir():
        return ["."]
    return sorted(entries(folder) - owned(folder))


def check_writable(folder: Path, force: bool = False, writes: tuple[str, ...] = ()) -> list[str]:
    """The foreign files of `folder`; a HwflowError naming them unless force (then they are written around).

    writes: the top-level files the step will write; a foreign file of one of those names is refused
    even with force (hwflow never overwrites a file it did not write), before any work is done. A
    foreign file deeper down that an output would replace is found when the step has written it.
    """
    found = foreign(folder)
    if found == ["."]:
        raise HwflowError(f"{folder} is a file, not a folder; give another output folder")
    if found and not force:
        raise HwflowError(f"{folder} holds {len(found)} file(s) hwflow did not write ({listing(found)}); move them "
                          "away, or pass --force to write hwflow's outputs around them (they are kept)")
    clash = [p for p in found if p in writes]
    if clash:
        raise HwflowError(f"{folder} holds {listing(clash)}, which hwflow did not write (a run of an older hwflow, "
                          "or yours) and would overwrite; move or delete them yourself first")
    return found


def listing(paths: list[str]) -> str:
    return ", ".join(paths[:SHOWN]) + (f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else "")


@contextmanager
def output_dir(out: Path, force: bool = False, writes: tuple[str, ...] = ()):
    """Yield a temporary folder beside `out` that becomes `out` when the block succeeds.

    The files hwflow wrote in the old `out` go; its foreign files are moved into the new one at the
    same paths (after check_writable, which refuses them unless force). A failed or interrupted
    block leaves `out` as it was.
    """
    out = Path(out)
    kept = check_writable(out, force, writes)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield tmp
        written = entries(tmp)
        clash = sorted(written & set(kept))
        if clash:
            raise HwflowError(f"{out}: hwflow's outputs would overwrite {listing(clash)}, which hwflow did "
                              "not write; move them away and run again (nothing was changed)")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    record(tmp, *written)
    for path in kept:
        (tmp / path).parent.mkdir(parents=True, exist_ok=True)
        os.replace(out / path, tmp / path)
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
        os.replace(tmp, out)
        shutil.rmtree(old)  # only hwflow's own files are left in it
    else:
        os.replace(tmp, out)
