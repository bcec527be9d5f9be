"""The one check for the C++ compiler that firmware C simulation needs."""
from __future__ import annotations

import shutil

from hwflow.errors import HwflowError


def find_gxx() -> str | None:
    """The path of g++ on PATH, or None."""
    return shutil.which("g++")


def require_gxx(what: str) -> str:
    """The path of g++, or a HwflowError saying that `what` needs it and how to install it."""
    path = find_gxx()
    if path is None:
        raise HwflowError(f"g++ was not found on PATH; {what} needs it (install it, e.g. apt-get install g++)")
    return path
