//! `windcore-cli serve` as a real process against a real PostgreSQL (started by scripts/test).

mod api;
mod etl;
mod lifecycle;
mod store;
mod support;
