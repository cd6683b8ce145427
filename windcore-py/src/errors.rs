//! windcore errors as Python exceptions, mapped in one place.
//!
//! The exception classes are defined in Python (`windcore/exceptions.py`)
//! because some of them have two bases (`ConfigError` is both a
//! `WindcoreError` and a `ValueError`), which `create_exception!` cannot express.

use polars::prelude::PolarsError;
use pyo3::prelude::*;
use windcore::Error;

pyo3::import_exception!(windcore.exceptions, WindcoreError);
pyo3::import_exception!(windcore.exceptions, ConfigError);
pyo3::import_exception!(windcore.exceptions, ColumnError);
pyo3::import_exception!(windcore.exceptions, DatabaseError);
pyo3::import_exception!(windcore.exceptions, SchemaError);
pyo3::import_exception!(windcore.exceptions, ProtocolError);
pyo3::import_exception!(windcore.exceptions, DataError);
pyo3::import_exception!(windcore.exceptions, StoreError);
pyo3::import_exception!(windcore.exceptions, PipelineError);

/// The Python exception for a windcore error, with the whole cause chain as message.
pub fn to_py_err(err: Error) -> PyErr {
    exception_for(&err)
}

/// The Python exception for a borrowed windcore error (e.g. one kept in a run summary).
///
/// Its `transient` attribute is the core's [`Error::is_transient`]: whether
/// repeating the work may succeed (the class attribute is the usual answer
/// for the class; the instance's is the core's for this error). A
/// `ConfigError` also gets `setting`: the name of the setting it is about
/// ([`Error::setting`], e.g. `"window_length"`).
pub fn exception_for(err: &Error) -> PyErr {
    let msg = message(err);
    let exc = match err {
        Error::MissingColumn { .. } | Error::ColumnType { .. } | Error::NullTimestamps { .. } => {
            ColumnError::new_err(msg)
        }
        Error::InvalidConfig { .. } | Error::UnknownVariable { .. } => ConfigError::new_err(msg),
        Error::Data { .. } => DataError::new_err(msg),
        Error::Protocol { .. } => ProtocolError::new_err(msg),
        Error::Io { .. } => StoreError::new_err(msg),
        Error::Database { .. } | Error::Connection { .. } => DatabaseError::new_err(msg),
        Error::Schema(_) => SchemaError::new_err(msg),
        Error::Day { .. } => PipelineError::new_err(msg),
        Error::Polars(e) => polars_exception(e, msg),
        // `Cancelled` and any variant added to the #[non_exhaustive] enum later.
        _ => WindcoreError::new_err(msg),
    };
    let transient = err.is_transient();
    let setting = err.setting().map(|s| s.name());
    Python::attach(|py| {
        // Best effort: a failure to set one leaves the class's default.
        let value = exc.value(py);
        let _ = value.setattr("transient", transient);
        if let Some(name) = setting {
            let _ = value.setattr("setting", name);
        }
    });
    exc
}

/// A polars error met outside the core (reading the Arrow input).
pub fn polars_to_py(err: PolarsError) -> PyErr {
    let msg = err.to_string();
    polars_exception(&err, msg)
}

fn polars_exception(err: &PolarsError, msg: String) -> PyErr {
    match err {
        PolarsError::ColumnNotFound(_)
        | PolarsError::SchemaFieldNotFound(_)
        | PolarsError::SchemaMismatch(_)
        | PolarsError::Duplicate(_) => ColumnError::new_err(msg),
        PolarsError::IO { .. } => StoreError::new_err(msg),
        _ => WindcoreError::new_err(msg),
    }
}

/// The error and its causes on one line, skipping causes its message already spells out.
pub fn message(err: &Error) -> String {
    windcore::error_chain(err)
}
