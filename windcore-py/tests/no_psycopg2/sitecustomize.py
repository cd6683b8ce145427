"""Makes psycopg2 unimportable, for tests that prove windcore needs no database driver.

On the PYTHONPATH of a process (``sitecustomize`` is imported at start-up), with
``WINDCORE_NO_PSYCOPG2`` set to

* ``all``: no module of the process can import psycopg2 (a ``sys.meta_path`` finder);
* ``code``: windcore's and windcore_dagster's modules cannot (the test's own modules
  may, to set up their databases). Also installable in-process: :func:`install`.
"""

from __future__ import annotations

import builtins
import importlib.abc
import os
import sys

#: Top-level packages under test: they must not import psycopg2.
UNDER_TEST = ("windcore", "windcore_dagster")


def _blocked(name: str) -> bool:
    return name == "psycopg2" or name.startswith("psycopg2.")


class _NoPsycopg2(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if _blocked(fullname):
            raise ImportError(f"psycopg2 is blocked in this process (test): {fullname}")
        return None


_original_import = builtins.__import__


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and _blocked(name):
        importer = (globals or {}).get("__name__") or ""
        if importer.split(".")[0] in UNDER_TEST:
            raise ImportError(f"psycopg2 is blocked for {importer} (test)")
    return _original_import(name, globals, locals, fromlist, level)


def install(mode: str) -> None:
    """Blocks psycopg2: for every module (``all``) or for the code under test (``code``)."""
    if mode == "all":
        for name in [n for n in sys.modules if _blocked(n)]:
            del sys.modules[name]
        sys.meta_path.insert(0, _NoPsycopg2())
    builtins.__import__ = _guarded_import


def uninstall() -> None:
    """Undoes :func:`install`."""
    builtins.__import__ = _original_import
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _NoPsycopg2)]


if os.environ.get("WINDCORE_NO_PSYCOPG2"):
    install(os.environ["WINDCORE_NO_PSYCOPG2"])
