//! The module's memory allocator on Linux: jemalloc (as polars' own Python
//! module uses), set to keep the memory of large freed blocks for reuse.
//!
//! A resampling writes its result into new columns: a year of 10-minute
//! windows of 100 turbine-years is 378 MB. Memory the process has not used
//! before costs a page fault per 4 KiB page on its first write (92,000 faults
//! for that result: 0.15-0.2 s of system CPU, more than the statistics
//! themselves), and the system allocator maps every large block afresh and
//! unmaps it when freed. jemalloc keeps a freed block's pages and hands them
//! to the next allocation of the module, so a call after another one (a
//! notebook, a loop over files, a Dagster or Dask worker) writes its result
//! into pages already there.
//!
//! The settings (`malloc_conf`):
//! - `oversize_threshold:0`: blocks of 8 MiB and more are kept like the
//!   others (jemalloc's default gives them an arena that returns them to the
//!   system at once, as the system allocator does);
//! - `background_thread:true`: a jemalloc thread returns memory freed and not
//!   reused to the system over the following seconds (`dirty_decay_ms`, 10 s
//!   by default; measured, a freed result of 93 MB was mostly back within
//!   2 s), also while the module is idle; without it, that happens only when
//!   the module next allocates.
//!
//! `_RJEM_MALLOC_CONF` in the environment adds to or overrides these (e.g.
//! `dirty_decay_ms:0` returns freed memory at once; it also reaches polars'
//! allocator, which reads the same variable).

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc reads its options from this symbol when it starts (before the
/// environment's `_RJEM_MALLOC_CONF`, which may override them).
#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static malloc_conf: &[u8] = b"oversize_threshold:0,background_thread:true\0";
