"""The resources: ``SourceDatabase`` (where the samples are, what to compute, in which
calendar) and ``TargetDatabase``; and the fingerprints of the source's days (the data
versions of ``scada_samples``)."""

import hashlib
from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg
import windcore
from pydantic import Field, field_validator

from windcore_dagster.days import DEFAULT_LATE_DATA_DAYS, EMPTY_DAY_VERSION


def _names(value: Any) -> Any:
    """``"a, b"`` as ``["a", "b"]`` (windcore's own convention); lists as they are."""
    if isinstance(value, str):
        return [n.strip() for n in value.split(",") if n.strip()] or None
    return value


class SourceDatabase(dg.ConfigurableResource):
    """Where the 1-minute samples are, what to compute from them, and in which calendar.

    The defaults read windcore's reference single-turbine table (``data``, column
    ``timestamp``, ``wind_speed`` and ``power``) in UTC days. For a farm table such as
    ``scada(turbine_id text, ts timestamptz, wind_speed, power, wind_direction float8)``
    reporting in Berlin time::

        SourceDatabase(
            url=dg.EnvVar("WINDCORE_SOURCE_URL"),
            table="scada", time_column="ts", asset_column="turbine_id",
            variables=["wind_speed", "power", "wind_direction"], angles="wind_direction",
            timezone="Europe/Berlin", late_data_days=3,
        )
    """

    url: str = Field(description="A postgres:// URL or an embedded-store directory.")
    table: Optional[str] = Field(
        default=None, description="PostgreSQL source table (default: the reference `data`)."
    )
    time_column: Optional[str] = Field(
        default=None, description="Its timestamptz column (default: `timestamp`)."
    )
    asset_column: Optional[str] = Field(
        default=None,
        description="Its turbine column, e.g. `turbine_id`: statistics per turbine. "
        "Default: one turbine (asset '').",
    )
    variables: Optional[List[str]] = Field(
        default=None,
        description="Channels to aggregate (a list or 'a,b'); default wind_speed and power "
        "(when the source has both). Angle channels must be listed too.",
    )
    angles: Optional[List[str]] = Field(
        default=None,
        description="Channels in degrees, e.g. wind_direction: circular statistics.",
    )
    counters: Optional[List[str]] = Field(
        default=None,
        description="Cumulative counters, e.g. energy (kWh): per window `<c>_delta` (the "
        "increase, resets handled) and `<c>_last`.",
    )
    states: Optional[List[str]] = Field(
        default=None,
        description="State channels (integer or text codes), e.g. state: per window "
        "`<s>_seconds_<state>` and `<s>_seconds_nodata`.",
    )
    state_hold: Optional[str] = Field(
        default=None,
        description="How long a state sample holds at most, e.g. '10m' (default: the "
        "window length).",
    )
    availability: Optional[Dict[str, Any]] = Field(
        default=None,
        description="Time-based availability (IEC 61400-26-1) from a state channel: "
        "{'available': [1, 2], 'unavailable': [3], 'excluded': [4], 'channel': 'state'}. "
        "The asset's metadata then gives availability per turbine.",
    )
    min_count: int = Field(
        default=1,
        ge=1,
        description="The fewest valid samples a window needs for its statistics.",
    )
    turbines: Optional[List[str]] = Field(
        default=None,
        description="The farm's turbines (asset values). When given, the check also fails "
        "for a listed turbine without a single window that day; by default it checks the "
        "turbines that have windows that day.",
    )
    timezone: str = Field(
        default="UTC",
        description="IANA name of the farm's reporting zone, e.g. Europe/Berlin: a day (a "
        "partition) is local midnight to local midnight, 23 or 25 hours on DST days. The "
        "partitions are built in this zone (build_definitions).",
    )
    label: Literal["start", "end"] = Field(
        default="start",
        description="Stamp each window at its start (default) or at its end, as many SCADA "
        "systems do.",
    )
    late_data_days: int = Field(
        default=DEFAULT_LATE_DATA_DAYS,
        ge=1,
        description="The late-data horizon: the daily sync (and an observation without a "
        "partition) covers the last N complete local days.",
    )

    @field_validator("variables", "angles", "turbines", "counters", "states", mode="before")
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        return _names(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {value!r} (an IANA name, e.g. Europe/Berlin)") from e
        return value

    def run_options(self) -> Dict[str, Any]:
        """The keyword arguments of ``windcore.run`` this resource sets (unset ones keep
        windcore's defaults: UTC days, windows labelled by their start)."""
        options: Dict[str, Any] = {"min_count": self.min_count}
        for name in (
            "table",
            "time_column",
            "asset_column",
            "variables",
            "angles",
            "counters",
            "states",
            "state_hold",
            "availability",
        ):
            value = getattr(self, name)
            if value is not None:
                options[name] = value
        if self.timezone != "UTC":
            options["timezone"] = self.timezone
        if self.label != "start":
            options["label"] = self.label
        return options


class TargetDatabase(dg.ConfigurableResource):
    """Where the 10-minute statistics go: a postgres:// URL or an embedded-store directory."""

    url: str = Field(description="A postgres:// URL or an embedded-store directory.")


# --- Fingerprints of the source: the data versions of scada_samples -------------------------


def _version(rows: int, assets: Mapping[str, str]) -> str:
    """A day's data version: ``<rows>-<digest of the per-turbine fingerprints>``, or
    ``empty``."""
    if not rows:
        return EMPTY_DAY_VERSION
    text = "\n".join(f"{asset}={fp}" for asset, fp in sorted(assets.items()))
    return f"{rows}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def source_fingerprints(source: SourceDatabase, days: Sequence[str]) -> Dict[str, str]:
    """The data version of each local day of ``days`` (contiguous, 'YYYY-MM-DD') in the
    source: ``<rows>-<digest>``, or ``empty`` for a day without samples. Any change of a
    sample (a late row, a corrected value, a deleted row) changes the day's version.

    The fingerprints are windcore's own (:func:`windcore.day_fingerprints`, those an
    incremental run compares), per turbine over the time and the channels
    (``variables``; by default every channel of the source): a PostgreSQL source
    computes them in the database without moving the rows; an embedded store from its
    files.
    """
    days = sorted(days)
    if not days:
        return {}
    layout = {
        name: getattr(source, name)
        for name in ("table", "time_column", "asset_column")
        if getattr(source, name) is not None
    }
    found = windcore.day_fingerprints(
        source.url.strip(), days[0], days[-1], variables=source.variables,
        timezone=source.timezone, **layout,
    )
    versions = {day.isoformat(): _version(v["rows"], v["assets"]) for day, v in found.items()}
    return {day: versions.get(day, EMPTY_DAY_VERSION) for day in days}
