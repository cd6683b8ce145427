"""The report of :func:`windcore.run`: :class:`RunSummary`, :class:`DayReport`, :class:`Quality`.

The core's report (``windcore::RunSummary``) crosses to Python as one
serialisation (serde, JSON), with the run's totals computed by the core; these
classes only wrap it: their attributes are the serialised fields, days become
``datetime.date``. A field the core adds to its report appears here without a
change to this module.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any, Dict, List, Optional

__all__ = ["RunSummary", "DayReport", "Quality"]


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


class _Fields:
    """Read-only attributes from a dict of serialised fields."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Dict[str, Any]) -> None:
        object.__setattr__(self, "_fields", fields)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # e.g. while copying, before __init__
            raise AttributeError(name)
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self._fields))

    def __reduce__(self) -> Any:
        return (type(self), (self._fields,))


class Quality(_Fields):
    """What a day's input held and what the rules left out (the core's ``Quality``):
    ``samples`` (input rows read), ``missing`` (NULL/NaN values, sample x variable),
    ``duplicates`` (rows dropped for a later one of the same asset and timestamp),
    ``sparse_windows`` ((window, variable) pairs with fewer valid samples than
    ``min_count``), ``outside`` (rows outside the day), ``windows`` (windows per
    asset holding at least one input row)."""

    __slots__ = ()

    if TYPE_CHECKING:  # the serialised fields, for type checkers
        samples: int
        missing: int
        duplicates: int
        sparse_windows: int
        outside: int
        windows: int

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._fields.items())
        return f"Quality({inner})"


class DayReport(_Fields):
    """What happened to one UTC day of a run.

    ``day`` (``datetime.date``); ``outcome``: ``"loaded"``,
    ``"no_source_rows"``, ``"unchanged"``, ``"failed"`` or ``"skipped"`` (not
    attempted because an earlier day failed); ``error`` (why the day failed,
    or None); ``rows_in``, ``windows``, ``rows_out``; ``extract_seconds``,
    ``transform_seconds``, ``load_seconds``; ``assets`` and, for incremental
    runs, ``assets_unchanged``, ``assets_changed``, ``assets_new``,
    ``assets_removed``; ``data_signals``: the signals whose names came from
    the data that the day's load wrote besides the run's own (a state
    channel's ``<s>_seconds_<state>``); ``quality`` (:class:`Quality`), whose counters
    (``missing``, ``duplicates``, ``sparse_windows``, ``outside``, ...) are
    also attributes of the report itself (``windows`` is the report's).
    """

    __slots__ = ()

    if TYPE_CHECKING:  # the serialised fields, for type checkers
        outcome: str
        error: Optional[str]
        rows_in: int
        windows: int
        rows_out: int
        extract_seconds: float
        transform_seconds: float
        load_seconds: float
        missing: int
        duplicates: int
        sparse_windows: int
        outside: int
        assets: int
        assets_unchanged: int
        assets_changed: int
        assets_new: int
        assets_removed: int
        data_signals: List[str]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        fields = self._fields
        if name in fields:
            return fields[name]
        if name == "error":
            return None  # only a failed day has one
        quality = fields.get("quality") or {}
        if name in quality:
            return quality[name]
        return super().__getattr__(name)

    @property
    def day(self) -> dt.date:
        """The UTC day."""
        return _date(self._fields["day"])

    @property
    def quality(self) -> Quality:
        """What the day's input held and what the rules left out."""
        return Quality(self._fields.get("quality") or {})

    def to_dict(self) -> Dict[str, Any]:
        """The report as the core serialises it (JSON-friendly; the day as 'YYYY-MM-DD')."""
        return json.loads(json.dumps(self._fields))

    def __repr__(self) -> str:
        error = self.error
        tail = "" if error is None else f", error={json.dumps(error, ensure_ascii=False)}"
        return (
            f"DayReport(day={self._fields['day']}, outcome={self.outcome!r}, "
            f"rows_in={self.rows_in}, windows={self.windows}, rows_out={self.rows_out}{tail})"
        )


#: The totals that are lists of days ('YYYY-MM-DD' in ``to_dict()``, dates as attributes).
_DAY_LISTS = ("failed_days", "days_to_rerun", "empty_days")


class RunSummary(_Fields):
    """The report of :func:`windcore.run`: totals, the days to look at, one
    :class:`DayReport` per day.

    Attributes (the keys of :meth:`to_dict`): ``days`` (number of days),
    ``days_loaded``, ``rows_in``, ``rows_out``, ``windows``,
    ``elapsed_seconds``, ``failed_days``, ``days_to_rerun`` (the failed days
    and those skipped after a failure), ``empty_days`` (no source rows,
    nothing written) as lists of ``datetime.date``; ``source`` and ``target``
    (password masked), ``signals`` (what the days' loads wrote and replaced:
    the run's own signals, then those whose names came from the data, e.g.
    ``status_seconds_3``), ``error`` (the first failure, or None); the quality counters
    over the run ``missing``, ``duplicates``, ``sparse_windows``, ``outside``;
    for incremental runs ``days_unchanged`` and the (day, asset) pairs
    ``pairs_unchanged``, ``pairs_changed``, ``pairs_new``, ``pairs_removed``.
    Also ``reports``, ``ok``, ``days_with_issues``, ``notes``, ``bad_rows``,
    ``failure_message``, ``rerun_days_text``.
    """

    __slots__ = ("_view",)

    if TYPE_CHECKING:  # the totals, for type checkers
        days: int
        days_loaded: int
        rows_in: int
        rows_out: int
        windows: int
        elapsed_seconds: float
        failed_days: List[dt.date]
        days_to_rerun: List[dt.date]
        empty_days: List[dt.date]
        source: str
        target: str
        signals: List[str]
        error: Optional[str]
        missing: int
        duplicates: int
        sparse_windows: int
        outside: int
        days_unchanged: int
        pairs_unchanged: int
        pairs_changed: int
        pairs_new: int
        pairs_removed: int

    def __init__(self, view: Dict[str, Any]) -> None:
        super().__init__(view["totals"])
        object.__setattr__(self, "_view", view)

    @classmethod
    def _from_json(cls, text: str) -> "RunSummary":
        """From the binding's serialisation (totals, the core's report, failure texts)."""
        return cls(json.loads(text))

    def __reduce__(self) -> Any:
        return (type(self), (self._view,))

    def __getattr__(self, name: str) -> Any:
        value = super().__getattr__(name)
        if name in _DAY_LISTS:
            return [_date(d) for d in value]
        if isinstance(value, list):
            return list(value)
        return value

    @property
    def reports(self) -> List[DayReport]:
        """One :class:`DayReport` per day, in day order."""
        return [DayReport(r) for r in self._view["report"]["days"]]

    @property
    def ok(self) -> bool:
        """True when no day failed or was skipped."""
        return not self._fields["days_to_rerun"]

    @property
    def days_with_issues(self) -> List[dt.date]:
        """Days where a rule left something out (missing values, duplicates,
        sparse windows, rows outside the day)."""
        return [_date(d) for d in self._view["days_with_issues"]]

    @property
    def notes(self) -> List[str]:
        """What the source says a user should know (e.g. a PostgreSQL table read
        without an index on its time column), once per run."""
        return list(self._view["report"].get("notes", []))

    @property
    def bad_rows(self) -> Dict[str, Any]:
        """Rows of the source that were not samples (a file source's rows whose
        time or a number did not parse): ``{"count": n, "first": [{"file", "line",
        "reason"}, ...]}`` with the first few."""
        bad_rows = self._view["report"].get("bad_rows", {"count": 0, "first": []})
        return json.loads(json.dumps(bad_rows))

    @property
    def failure_message(self) -> Optional[str]:
        """If a day failed, what to tell the user (the message of the
        :class:`windcore.PipelineError`): the first failed day and its error,
        that the days already loaded are kept, and the days to re-run as
        ranges (``2024-01-02..2024-01-04``). None otherwise."""
        return self._view["failure_message"]

    @property
    def rerun_days_text(self) -> str:
        """The days to re-run as ranges, e.g. ``2024-01-02..2024-01-04 2024-01-07``."""
        return self._view["rerun_days_text"]

    def to_dict(self) -> Dict[str, Any]:
        """The totals as a JSON-friendly dict (days as 'YYYY-MM-DD' strings), e.g.
        for Dagster metadata or structured logging."""
        return json.loads(json.dumps(self._fields))

    def _report_json(self) -> str:
        """The core's report (its days and elapsed time) as JSON, e.g. to merge
        it with others (``windcore._windcore.merge_summaries``)."""
        return json.dumps(self._view["report"])

    def __repr__(self) -> str:
        t = self._fields
        days = lambda ds: ", ".join(f"'{d}'" for d in ds)  # noqa: E731
        return (
            f"RunSummary(days={t['days']}, days_loaded={t['days_loaded']}, "
            f"rows_in={t['rows_in']}, rows_out={t['rows_out']}, windows={t['windows']}, "
            f"elapsed_seconds={t['elapsed_seconds']:.3f}, "
            f"failed_days=[{days(t['failed_days'])}], "
            f"days_to_rerun=[{days(t['days_to_rerun'])}], "
            f"empty_days=[{days(t['empty_days'])}])"
        )


for _cls in (Quality, DayReport, RunSummary):
    _cls.__module__ = "windcore"
del _cls
