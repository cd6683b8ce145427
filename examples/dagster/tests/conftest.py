"""The Dagster example needs no database driver of its own: while its tests run, its
modules (and windcore's) cannot import psycopg2 (the tests themselves use it to set up
their databases). The blocker is windcore-py/tests/no_psycopg2/sitecustomize.py."""

import importlib.util
import pathlib

import pytest

BLOCKER = (
    pathlib.Path(__file__).resolve().parents[3]
    / "windcore-py" / "tests" / "no_psycopg2" / "sitecustomize.py"
)


@pytest.fixture(scope="session", autouse=True)
def code_without_psycopg2():
    spec = importlib.util.spec_from_file_location("windcore_dagster_no_psycopg2", BLOCKER)
    blocker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(blocker)
    blocker.install("code")
    yield
    blocker.uninstall()
