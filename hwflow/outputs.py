"""hwflow's output folders: written whole or not at all, and never at the cost of a file hwflow did not write.

Every folder hwflow writes carries a manifest (MANIFEST) of the files it wrote there, as paths
relative to that folder. The manifests that count for a folder are its own, those of the folders
around it, and those of folders inside it that an owning manifest lists (a nested output hwflow
wrote records itself in the manifest around it); a manifest inside a copy the user made counts for
nothing. A file that no counting manifest lists is *foreign* (the user's notes, Vivado reports, a
tool's build). Writing into a folder with foreign files is refused, naming them, unless `force`:
then hwflow's outputs are written around them and every foreign file stays where it was. A step
writes into a temporary folder beside its output folder, which takes the output's place only when
the step succeeded.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from hwflow.errors import HwflowError

MANIFEST = ".hwflow-outputs.json"
SHOWN = 3  # foreign files named in a message
UP = 4  # how many folders up a manifest that owns this one may be


def entries(folder: Path) -> set[str]:
    """Every file, symbolic link and empty folder below `folder`, as relative POSIX paths (manifests excluded)."""
    found = set()
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        found.update((rel / f).as_posix() for f in files if f != MANIFEST)
        found.update((rel / d).as_posix() for d in dirs if (Path(root) / d).is_symlink())  # not walked into
        if not dirs and not files and rel != Path("."):
            found.add(rel.as_posix())
    return found


def read_manifest(path: Path) -> list[str]:
    try:
        return list(json.loads(path.read_text())["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def owned(folder: Path) -> set[str]:
    """The paths below `folder` that a counting manifest lists (see the module docstring)."""
    folder = Path(folder).resolve()
    lists: set[str] = set()  # everything the owning manifests list, relative to folder
    for level, parent in enumerate(folder.parents):
        if level >= UP:
            break
        inside = folder.relative_to(parent).as_posix() + "/"
        lists.update(p[len(inside):] for p in read_manifest(parent / MANIFEST) if p.startswith(inside))
    pending = [(folder / MANIFEST, Path("."))]
    while pending:  # this folder's manifest, then every nested manifest an owning one lists
        manifest, prefix = pending.pop()
        for p in read_manifest(manifest):
            rel = (prefix / p).as_posix()
            lists.add(rel)
            if Path(rel).name == MANIFEST:
                pending.append((folder / rel, Path(rel).parent))
    for rel in [p for p in lists if Path(p).name == MANIFEST]:
        for p in read_manifest(folder / rel):
            lists.add((Path(rel).parent / p).as_posix())
    return {p for p in lists if Path(p).name != MANIFEST}


def record(folder: Path, *paths: str) -> None:
    """Add paths (relative to `folder`) to the folder's manifest: hwflow wrote them there."""
    manifest = Path(folder) / MANIFEST
    files = sorted(set(read_manifest(manifest)) | set(paths))
    manifest.write_text(json.dumps({"files": files}, indent=0))


def record_in_parent(out: Path) -> None:
    """List out's manifest in the nearest manifest around it, so that the outer output owns this one."""
    out = Path(out).resolve()
    for level, parent in enumerate(out.parents):
        if level >= UP:
            return
        if (parent / MANIFEST).is_file():
            record(parent, (out / MANIFEST).relative_to(parent).as_posix())
            return


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
    """The files (and empty folders, links) below `folder` that hwflow did not write, sorted."""
    folder = Path(folder)
    if not folder.exists():
        return []
    if not folder.is_dir():
        return ["."]
    return sorted(entries(folder) - owned(folder))


def listing(paths: list[str]) -> str:
    return ", ".join(paths[:SHOWN]) + (f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else "")


def check_writable(folder: Path, force: bool = False, writes: tuple[str, ...] = ()) -> list[str]:
    """The foreign files of `folder`; a HwflowError naming them unless force (then they are written around).

    writes: the top-level files the step will write; a foreign file of one of those names is refused
    even with force (hwflow never overwrites a file it did not write), before any work is done. A
    foreign file deeper down that an output would replace is found when the step has written it.
    """
    folder = Path(folder)
    here = Path.cwd().resolve()
    if folder.exists() and (here == folder.resolve() or folder.resolve() in here.parents):
        raise HwflowError(f"{folder} is the working folder or holds it; give an output folder below it")
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


def clashes(out: Path, kept: list[str], written: set[str]) -> list[str]:
    """Foreign paths of `out` the outputs would replace: a file at a path they write, a file where they
    need a folder, or anything inside what they write as a file (a foreign empty folder where the
    outputs have a folder is no clash: it stays)."""
    folders = {parent.as_posix() for p in written for parent in Path(p).parents if parent != Path(".")}
    bad = []
    for p in kept:
        is_dir = (out / p).is_dir() and not (out / p).is_symlink()
        if p in written or p in folders:
            if not is_dir:  # a foreign folder is listed only when empty: the outputs' folder takes it in
                bad.append(p)
        elif any(parent.as_posix() in written for parent in Path(p).parents):
            bad.append(p)
    return bad


@contextmanager
def output_dir(out: Path, force: bool = False, writes: tuple[str, ...] = ()):
    """Yield a temporary folder beside `out` that becomes `out` when the block succeeds.

    The files hwflow wrote in the old `out` go; its foreign files (those of check_writable, which
    refuses them unless force, and any that appeared while the block ran) move into the new one at the
    same paths. A failed or interrupted block leaves `out` as it was. If the outputs would replace a
    foreign file, nothing is changed and the new outputs are kept beside `out`, named in the error.
    """
    out = Path(out).resolve()  # a linked output folder: write where the link points
    check_writable(out, force, writes)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    written = entries(tmp)
    kept = foreign(out)  # now: files that appeared while the block ran count too
    clash = clashes(out, kept, written)
    if clash:
        aside = out.with_name(f"{out.name}.hwflow-new-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(tmp, aside)
        raise HwflowError(f"{out}: hwflow's outputs would replace {listing(clash)}, which hwflow did not write; "
                          f"nothing there was changed, the new outputs are in {aside}")
    record(tmp, *written)
    moved: list[str] = []
    try:
        for path in kept:
            if (tmp / path).is_dir() and (out / path).is_dir() and not any((out / path).iterdir()):
                continue  # an empty folder of the user's where the outputs have one: it stays
            (tmp / path).parent.mkdir(parents=True, exist_ok=True)
            os.replace(out / path, tmp / path)
            moved.append(path)
        if out.exists():
            # only hwflow's own files, and folders the moves emptied, may be left: checked in place, where the
            # manifests around `out` still count (a nested output, such as `hwflow hls`'s firmware/snn, is owned
            # through them)
            left = [p for p in foreign(out) if not (out / p).is_dir() or (out / p).is_symlink()]
            if left:
                raise HwflowError(f"internal: {listing(left)} would be deleted from {out}; nothing was changed")
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    except BaseException:
        for path in reversed(moved):  # put the user's files back where they were
            if (tmp / path).exists() and not (out / path).exists():
                (out / path).parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp / path, out / path)
        raise
    record_in_parent(out)
