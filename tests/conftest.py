"""What the tests share: the markers and the one g++ check.

Markers (pyproject.toml registers them):
  firmware  compiles generated C++ with g++; skipped, with the reason, where g++ is missing
  slow      takes more than a few seconds: long training, sweeps, a wheel build, the flow end to end

The fast part:  make test PYTEST_ARGS='-m "not firmware and not slow"'
"""
from __future__ import annotations

import pytest

from hwflow.hls.toolchain import find_gxx


def pytest_collection_modifyitems(config, items) -> None:
    if find_gxx() is not None:
        return
    skip = pytest.mark.skip(reason="g++ is needed for firmware C simulation (install it, e.g. apt-get install g++)")
    for item in items:
        if "firmware" in item.keywords:
            item.add_marker(skip)
