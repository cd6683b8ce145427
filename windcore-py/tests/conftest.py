"""Shared by the farm tests: their data module on the path (pytest runs with
``--import-mode=importlib``, which does not add it) and the farm fixture."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))

from farm_data import farm  # noqa: E402


@pytest.fixture(scope="module", params=[0, 1], ids=["seed0", "seed1"])
def raw(request):
    """The farm table of tests/farm_data.py, for two seeds."""
    return farm(seed=request.param)
