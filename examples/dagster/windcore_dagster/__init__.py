"""A Dagster project that runs the windcore ETL for daily partitions (UTC or local days),
with late data shown as stale partitions and synced incrementally."""

from .definitions import defs

__all__ = ["defs"]
