"""The reference system's ETL, as users run it today: for each day, pandas.read_sql
through SQLAlchemy, pandas resample, and SQLAlchemy ORM inserts one object per row.

Usage: python reference_etl.py SOURCE_URL TARGET_URL FIRST_DAY N_DAYS
Prints `reference_etl <seconds>` (schema creation is not timed).
"""

import datetime as dt
import sys
import time

import pandas as pd
from sqlalchemy import Column, DateTime, Float, ForeignKey, Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Session


class Base(DeclarativeBase):
    pass


class Signal(Base):
    __tablename__ = "signal"
    id = Column(Integer, primary_key=True)
    name = Column(String)


class Data(Base):
    __tablename__ = "data"
    id = Column(Integer, primary_key=True)
    timestamp = Column(DateTime(timezone=True))
    signal_id = Column(Integer, ForeignKey("signal.id"))
    value = Column(Float)


def engine(url):
    return create_engine(url.replace("postgres://", "postgresql+psycopg2://", 1))


def main():
    src_url, tgt_url, first, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    src, tgt = engine(src_url), engine(tgt_url)
    Base.metadata.create_all(tgt)
    day0 = dt.date.fromisoformat(first)
    t = time.perf_counter()
    for k in range(n):
        start = dt.datetime.combine(day0 + dt.timedelta(days=k), dt.time(), dt.timezone.utc)
        end = start + dt.timedelta(days=1)
        df = pd.read_sql(
            "select timestamp, wind_speed, power from data where timestamp >= %(s)s and timestamp < %(e)s",
            src,
            params={"s": start, "e": end},
        )
        agg = df.set_index("timestamp").resample("10min").agg(["mean", "min", "max", "std"])
        with Session(tgt) as session:
            ids = {}
            for var, stat in agg.columns:
                name = f"{var}_{stat}"
                sig = session.scalars(select(Signal).where(Signal.name == name)).first()
                if sig is None:
                    sig = Signal(name=name)
                    session.add(sig)
                    session.flush()
                ids[(var, stat)] = sig.id
            for ts, row in agg.iterrows():
                for col, value in row.items():
                    if pd.notna(value):
                        session.add(Data(timestamp=ts.to_pydatetime(), signal_id=ids[col], value=float(value)))
            session.commit()
    print(f"reference_etl {time.perf_counter() - t:.6f}")


if __name__ == "__main__":
    main()
