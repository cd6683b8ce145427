//! Integration tests of the windcore library, one module per area.
//!
//! The PostgreSQL tests need a server: `scripts/test` starts a throwaway
//! cluster and sets `WINDCORE_TEST_DATABASE_URL`; each test creates its own
//! databases in it.

mod calendar;
mod farm;
mod farm_pg;
mod files;
mod http;
mod incremental_pg;
mod late_pg;
mod pg_util;
mod pipeline;
mod postgres;
mod record;
mod record_pg;
mod resample;
