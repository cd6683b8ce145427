"""The reference system's connector API, as users run it today: FastAPI with a
SQLAlchemy ORM query that builds the whole answer as a list of dicts.

Usage: python reference_api.py SOURCE_URL PORT
Serves GET /data?start=…&end=…&variables=… on 127.0.0.1:PORT (the benchmark's
comparison point for `windcore-cli serve`).
"""

import datetime as dt
import sys
from typing import List

import uvicorn
from fastapi import FastAPI, Query
from sqlalchemy import Column, DateTime, Float, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Session


class Base(DeclarativeBase):
    pass


class Data(Base):
    __tablename__ = "data"
    timestamp = Column(DateTime(timezone=True), primary_key=True)
    wind_speed = Column(Float)
    power = Column(Float)
    ambient_temperature = Column(Float)


engine = create_engine(sys.argv[1].replace("postgres://", "postgresql+psycopg2://", 1))
app = FastAPI()


@app.get("/data")
def get_data(start: dt.datetime, end: dt.datetime, variables: List[str] = Query(["wind_speed", "power"])):
    with Session(engine) as session:
        rows = session.scalars(
            select(Data).where(Data.timestamp >= start, Data.timestamp < end).order_by(Data.timestamp)
        ).all()
        return [{"timestamp": r.timestamp, **{v: getattr(r, v) for v in variables}} for r in rows]


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
