//! The one way long work runs: off the GIL, on one shared tokio runtime,
//! interruptible with Ctrl-C.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::errors::{to_py_err, WindcoreError};

/// How often a waiting call wakes up to let Python handle signals (Ctrl-C).
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The process-wide multi-thread runtime, started on first use.
fn runtime() -> PyResult<&'static Runtime> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("windcore")
        .build()
        .map_err(|e| WindcoreError::new_err(format!("cannot start the async runtime: {e}")))?;
    // If another thread won the race, its runtime is kept and ours is dropped.
    Ok(RUNTIME.get_or_init(|| rt))
}

/// Runs `fut` to completion on the shared runtime with the GIL released.
///
/// Every [`SIGNAL_CHECK_INTERVAL`] the calling thread re-attaches to Python and
/// runs its signal handlers; if one raises (`KeyboardInterrupt` on Ctrl-C),
/// the task is aborted and that exception is returned. windcore errors are
/// mapped by [`to_py_err`]; a panic in the task is resumed here, so PyO3
/// turns it into a `PanicException`.
pub fn wait_for<F, T>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = windcore::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let rt = runtime()?;
    let mut task = rt.spawn(fut);
    loop {
        let finished = py.detach(|| {
            rt.block_on(async { tokio::time::timeout(SIGNAL_CHECK_INTERVAL, &mut task).await })
        });
        match finished {
            Ok(Ok(result)) => return result.map_err(to_py_err),
            Ok(Err(join)) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Ok(Err(_)) => return Err(to_py_err(windcore::Error::Cancelled)),
            Err(_elapsed) => {
                if let Err(interrupt) = py.check_signals() {
                    task.abort();
                    return Err(interrupt);
                }
            }
        }
    }
}

/// [`wait_for`] for synchronous, CPU-bound work: `f` runs on the runtime's
/// blocking pool (polars and rayon parallelise inside it).
///
/// On Ctrl-C the call returns at once; `f` cannot be stopped midway and
/// finishes in the background, its result discarded.
pub fn wait_for_blocking<F, T>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: FnOnce() -> windcore::Result<T> + Send + 'static,
    T: Send + 'static,
{
    wait_for(py, async move {
        match tokio::task::spawn_blocking(f).await {
            Ok(result) => result,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(_) => Err(windcore::Error::Cancelled),
        }
    })
}
