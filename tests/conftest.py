import os
import pathlib
import shutil

import pytest


@pytest.fixture(scope="session")
def cli() -> str:
    """Path of the built windcore-cli binary (scripts/test sets WINDCORE_CLI)."""
    path = os.environ.get("WINDCORE_CLI") or shutil.which("windcore-cli")
    if not path or not pathlib.Path(path).exists():
        pytest.fail("windcore-cli not found: build it and set WINDCORE_CLI (scripts/test does)")
    return path
