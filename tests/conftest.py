import os
import pathlib
import shutil
import sys

import pytest

# The tests' helper modules (dashboard_support.py) on the path: pytest runs with
# --import-mode=importlib, which does not add it.
sys.path.insert(0, str(pathlib.Path(__file__).parent))


@pytest.fixture(scope="session")
def cli() -> str:
    """Path of the built windcore-cli binary (scripts/test sets WINDCORE_CLI)."""
    path = os.environ.get("WINDCORE_CLI") or shutil.which("windcore-cli")
    if not path or not pathlib.Path(path).exists():
        pytest.fail("windcore-cli not found: build it and set WINDCORE_CLI (scripts/test does)")
    return path


@pytest.fixture()
def pg_url(request) -> str:
    """A fresh database in the test server (scripts/test starts a throwaway
    cluster and sets WINDCORE_TEST_DATABASE_URL)."""
    import re
    import uuid

    import psycopg2

    admin = os.environ.get("WINDCORE_TEST_DATABASE_URL")
    if not admin:
        pytest.fail("WINDCORE_TEST_DATABASE_URL is not set: run the tests with scripts/test")
    name = "t_" + re.sub(r"\W", "_", request.node.name)[:40].lower() + "_" + uuid.uuid4().hex[:6]
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    yield admin.rsplit("/", 1)[0] + "/" + name
