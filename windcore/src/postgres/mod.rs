//! PostgreSQL source and target, with binary COPY in both directions.
//!
//! Source: by default the reference system's table
//! `data(timestamp timestamptz primary key, wind_speed float8, power float8,
//! ambient_temperature float8)`; any other table through a [`SourceLayout`]
//! (table, time column, asset column), its numeric columns being the channels.
//!
//! Target tables: `signal(id serial primary key, asset text not null default '',
//! name text not null, unique (asset, name))` and `data(timestamp timestamptz
//! not null, signal_id int not null references signal(id), value float8 not
//! null, primary key (signal_id, timestamp))`.
//!
//! A load runs in one transaction per day: it takes an advisory lock on the
//! day (so concurrent runs of the same day queue up instead of interleaving),
//! deletes the day's rows of the signals being written and COPYs the new rows
//! in. Any error rolls the whole day back.
//!
//! The parts: [`pool`] (connections, the pool size, the password-free URL),
//! [`sql`] (literals and quoted identifiers), [`layout`] ([`SourceLayout`]),
//! [`source`] ([`PostgresSource`]: connect, inspect the indexes, read, write
//! samples), [`target`] ([`PostgresTarget`]: connect, load, read back),
//! [`ddl`] (`init` of both, and the target's migration) and [`binary_copy`]
//! (the COPY format, encoder and decoder side by side).

mod binary_copy;
mod ddl;
mod layout;
mod pool;
mod source;
mod sql;
mod target;

pub use layout::SourceLayout;
pub use pool::{mask_password, pool_size_for_jobs, DEFAULT_POOL_SIZE, MAX_POOL_SIZE};
pub use source::PostgresSource;
pub use target::PostgresTarget;
