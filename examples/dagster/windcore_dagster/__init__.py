"""A Dagster project that runs the windcore ETL for daily UTC partitions."""

from .definitions import defs

__all__ = ["defs"]
