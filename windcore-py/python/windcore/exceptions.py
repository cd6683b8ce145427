"""The exceptions windcore raises. All derive from :class:`WindcoreError`.

==================  ========================  =========  ===================================
class               also a                    transient  raised for
==================  ========================  =========  ===================================
``WindcoreError``   ``Exception``             no         the root; anything not covered below
``ConfigError``     ``ValueError``            no         a bad ``every``, stat, date, date
                                                         range, variable, location, ``jobs``
``ColumnError``     ``ValueError``            no         input columns: missing ``timestamp``
                                                         or variable, wrong type, null
                                                         timestamps
``DataError``       ``ValueError``            no         the data themselves: a sample without
                                                         its asset, a timestamp outside the
                                                         day being written, ...
``DatabaseError``                             yes        PostgreSQL or the connector API:
                                                         connection, SQL / request
``SchemaError``     ``DatabaseError``         no         a target schema windcore will not
                                                         write into
``ProtocolError``   ``DatabaseError``         yes        a peer spoke badly or cut its stream:
                                                         a truncated Arrow or COPY stream, a
                                                         response that is not HTTP, bad JSON
``StoreError``      ``OSError``               yes        files of the embedded store
``PipelineError``                             its cause  a day of ``windcore.run`` failed
==================  ========================  =========  ===================================

``transient``: whether repeating the same work may succeed (a store that was
unreachable, a cut stream, a failed statement) or not (a setting, the input's
columns, bad data, a schema: a repeat fails the same way). Every exception has
it as an attribute: the class's value above, and on the instances windcore
raises, windcore's own verdict for that error. ``windcore.dask`` retries a
task only when its error is transient. Check it with :func:`is_transient`.

A ``ConfigError`` carries ``setting``: the name of the setting it is about,
e.g. ``"window_length"``, ``"stat"``, ``"date_range"``, ``"variables"`` (an
unknown variable), ``"jobs"``, ``"min_count"``, ``"angles"``, ``"location"``;
``None`` when the error names none (e.g. a check of ``windcore.dask``'s own).

A ``PipelineError`` carries ``day`` (the first failed day), ``failed_days``,
``days_to_rerun`` and ``summary`` (the :class:`windcore.RunSummary`), and has the
failed day's own error (e.g. a ``DatabaseError``) as ``__cause__``; it is
transient when that cause is.

The exceptions are defined here, in Python, because some have two bases; the
native module raises these very classes.

One warning: :class:`DuplicateTimestampsWarning`, when :func:`windcore.resample`
drops input rows as duplicate timestamps.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, List, Optional

if TYPE_CHECKING:  # pragma: no cover
    from windcore._report import RunSummary

__all__ = [
    "WindcoreError",
    "ConfigError",
    "ColumnError",
    "DataError",
    "DatabaseError",
    "SchemaError",
    "ProtocolError",
    "StoreError",
    "PipelineError",
    "DuplicateTimestampsWarning",
    "is_transient",
]


class WindcoreError(Exception):
    """Base class of every error windcore raises.

    ``transient``: whether repeating the work may succeed (see the module's table).
    """

    transient: bool = False


class ConfigError(WindcoreError, ValueError):
    """A setting is malformed or out of range (window length, stat, date, variable, location).

    ``setting``: which one, as a name (``"window_length"``), or ``None``.
    """

    setting: Optional[str] = None


class ColumnError(WindcoreError, ValueError):
    """The input table lacks a column, or a column has a type windcore cannot use."""


class DataError(WindcoreError, ValueError):
    """The data themselves are bad (a sample without its asset, a timestamp outside
    the day being written, ...): repeating the work fails the same way."""


class DatabaseError(WindcoreError):
    """PostgreSQL (or the HTTP connector API) could not be reached, a statement or
    request failed, or (:class:`SchemaError`) the schema is not windcore's."""

    transient = True


class SchemaError(DatabaseError):
    """The target database has a schema windcore will not write into."""

    transient = False


class ProtocolError(DatabaseError):
    """A peer spoke badly or cut its stream short: an Arrow or COPY stream that
    ends early, a response that is not HTTP, JSON that is not the API's. Worth a
    retry."""

    transient = True


class StoreError(WindcoreError, OSError):
    """A file of the embedded store could not be read or written."""

    transient = True


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

    @property  # type: ignore[override]
    def transient(self) -> bool:  # noqa: D401
        """Whether re-running the failed day may succeed: that of its cause."""
        own = self.__dict__.get("_transient")
        if own is not None:
            return own
        return is_transient(self.__cause__) if self.__cause__ is not None else False

    @transient.setter
    def transient(self, value: bool) -> None:
        self.__dict__["_transient"] = bool(value)


def is_transient(error: BaseException) -> bool:
    """Whether repeating the work that raised ``error`` may succeed: its
    ``transient`` attribute for windcore's errors (a :class:`PipelineError`: its
    cause's); False for any other exception."""
    if isinstance(error, WindcoreError):
        return bool(error.transient)
    return False


class DuplicateTimestampsWarning(UserWarning):
    """:func:`windcore.resample` dropped input rows as duplicate timestamps: of
    the rows of one key (one series without ``by``) with the same timestamp,
    the last in input order is kept. The message gives how many. Often a table
    of several turbines resampled without ``by``. Silence it with
    ``warnings.filterwarnings("ignore", category=windcore.DuplicateTimestampsWarning)``."""
