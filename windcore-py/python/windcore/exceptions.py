"""The exceptions windcore raises. All derive from :class:`WindcoreError`.

==================  ========================  =============================================
class               also a                    raised for
==================  ========================  =============================================
``WindcoreError``   ``Exception``             the root; anything not covered below
``ConfigError``     ``ValueError``            a bad ``every``, stat, date, date range,
                                              variable, location, ``jobs`` ...
``ColumnError``     ``ValueError``            input columns: missing ``timestamp`` or
                                              variable, wrong type, null timestamps
``DatabaseError``                             PostgreSQL or the connector API: connection,
                                              SQL / request, schema
``StoreError``      ``OSError``               files of the embedded store
``PipelineError``                             a day of ``windcore.run`` failed
==================  ========================  =============================================

A ``PipelineError`` carries ``day`` (the first failed day), ``failed_days``,
``days_to_rerun`` and ``summary`` (the :class:`windcore.RunSummary`), and has the
failed day's own error (e.g. a ``DatabaseError``) as ``__cause__``.

The exceptions are defined here, in Python, because ``ConfigError`` and
``ColumnError`` have two bases; the native module raises these very classes.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, List

if TYPE_CHECKING:  # pragma: no cover
    from windcore._windcore import RunSummary

__all__ = [
    "WindcoreError",
    "ConfigError",
    "ColumnError",
    "DatabaseError",
    "StoreError",
    "PipelineError",
]


class WindcoreError(Exception):
    """Base class of every error windcore raises."""


class ConfigError(WindcoreError, ValueError):
    """A setting is malformed or out of range (window length, stat, date, variable, location)."""


class ColumnError(WindcoreError, ValueError):
    """The input table lacks a column, or a column has a type windcore cannot use."""


class DatabaseError(WindcoreError):
    """PostgreSQL (or the HTTP connector API) could not be reached, a statement or
    request failed, or the schema is not windcore's."""


class StoreError(WindcoreError, OSError):
    """A file of the embedded store could not be read or written."""


class PipelineError(WindcoreError):
    """A day of :func:`windcore.run` failed.

    Days loaded before it are kept; the failed day kept its previous contents;
    days after it were not started. Attributes: ``day``, ``failed_days``,
    ``days_to_rerun``, ``summary``.
    """

    day: datetime.date
    failed_days: List[datetime.date]
    days_to_rerun: List[datetime.date]
    summary: "RunSummary"
