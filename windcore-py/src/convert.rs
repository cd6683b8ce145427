//! Python arguments to core types. Parsing itself is the core's
//! (`parse_every`, `Stat::from_str`, `Day::from_str`, `Location::from_str`);
//! this only accepts the Python spellings of each argument.

use chrono::TimeDelta;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDate, PyDateTime, PyDelta, PyString, PyTzInfo};
use windcore::{parse_every, parse_stats, Day, DaysArg, Location, RunDays, RunDaysError, Stat};

use crate::errors::{to_py_err, ConfigError};

/// A window length: `"10m"`-style string or `datetime.timedelta`.
pub struct Every(pub TimeDelta);

impl Default for Every {
    fn default() -> Self {
        Every(TimeDelta::minutes(10))
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Every {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(s) = obj.cast::<PyString>() {
            return parse_every(&s.to_cow()?).map(Every).map_err(to_py_err);
        }
        if obj.is_instance_of::<PyDelta>() {
            // timedelta's own integer fields, so no float rounding.
            let days: i64 = obj.getattr("days")?.extract()?;
            let seconds: i64 = obj.getattr("seconds")?.extract()?;
            let micros: i64 = obj.getattr("microseconds")?.extract()?;
            let total = TimeDelta::days(days)
                + TimeDelta::seconds(seconds)
                + TimeDelta::microseconds(micros);
            return Ok(Every(total));
        }
        Err(PyTypeError::new_err(format!(
            "`every` must be a string like '10m' or a datetime.timedelta, got {}",
            obj.get_type().name()?
        )))
    }
}

/// Statistics: `"mean,std"` or an iterable of names.
pub struct Stats(pub Vec<Stat>);

impl Default for Stats {
    fn default() -> Self {
        Stats(Stat::DEFAULT.to_vec())
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Stats {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(s) = obj.cast::<PyString>() {
            return parse_stats(&s.to_cow()?).map(Stats).map_err(to_py_err);
        }
        let names = Names::extract(obj)?;
        names
            .0
            .iter()
            .map(|n| n.parse::<Stat>())
            .collect::<windcore::Result<Vec<_>>>()
            .map(Stats)
            .map_err(to_py_err)
    }
}

/// A list of names: `"a,b"` or an iterable of strings.
pub struct Names(pub Vec<String>);

impl<'a, 'py> FromPyObject<'a, 'py> for Names {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(Names(
                s.to_cow()?
                    .split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect(),
            ));
        }
        let iter = obj.try_iter().map_err(|_| {
            PyTypeError::new_err(format!(
                "expected a string or an iterable of strings, got {}",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?;
        let mut out = Vec::new();
        for item in iter {
            let item = item?;
            let s = item.cast::<PyString>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "expected strings, got {}",
                    item.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ))
            })?;
            out.push(s.to_cow()?.to_string());
        }
        Ok(Names(out))
    }
}

/// A UTC day as `YYYY-MM-DD` text, for the core to parse (`Day::from_str`,
/// `RunDays::from_args`): a string as it is, a `datetime.date` formatted, a
/// `datetime.datetime` as its UTC day (aware: converted to UTC first;
/// naive: taken as UTC).
pub struct DayArg(pub String);

impl DayArg {
    /// The day (the core's parser and its error).
    pub fn day(&self) -> PyResult<Day> {
        self.0.parse::<Day>().map_err(to_py_err)
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for DayArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(DayArg(s.to_cow()?.to_string()));
        }
        let py = obj.py();
        let date = if obj.is_instance_of::<PyDateTime>() {
            let utc = if obj.getattr("tzinfo")?.is_none() {
                obj.to_owned()
            } else {
                obj.call_method1("astimezone", (PyTzInfo::utc(py)?,))?
            };
            utc.call_method0("date")?
        } else if obj.is_instance_of::<PyDate>() {
            obj.to_owned()
        } else {
            return Err(PyTypeError::new_err(format!(
                "a day must be a 'YYYY-MM-DD' string, a datetime.date or a datetime.datetime, got {}",
                obj.get_type().name()?
            )));
        };
        let year: i32 = date.getattr("year")?.extract()?;
        let month: u32 = date.getattr("month")?.extract()?;
        let day: u32 = date.getattr("day")?.extract()?;
        Ok(DayArg(format!("{year:04}-{month:02}-{day:02}")))
    }
}

/// `windcore.run`'s names of the core's `date`, `from` and `to`.
pub const RUN_DAY_NAMES: [&str; 3] = ["date", "start", "end"];

/// The days of a run from a single day or the two ends of a range, by the
/// core's one parser of days (`RunDays::from_args`); `names` are the Python
/// names of the core's `date`, `from` and `to`, for the messages.
pub fn days_arg(
    date: Option<DayArg>,
    from: Option<DayArg>,
    to: Option<DayArg>,
    names: [&str; 3],
) -> PyResult<RunDays> {
    fn text(d: &Option<DayArg>) -> Option<&str> {
        d.as_ref().map(|d| d.0.as_str())
    }
    RunDays::from_args(text(&date), text(&from), text(&to)).map_err(|e| days_error(e, names))
}

/// A `RunDaysError` in Python's words: the core names a range's ends `from`
/// and `to` (the CLI's flags), a Python function by its own arguments
/// (`windcore.run`: `start` and `end`). The message starts with the argument
/// (`` `end`: invalid date range: ...``), which the `ConfigError` also
/// carries as `argument`.
fn days_error(e: RunDaysError, [date, from, to]: [&str; 3]) -> PyErr {
    let arg = match e.arg {
        DaysArg::Date => date,
        DaysArg::From => from,
        DaysArg::To => to,
    };
    let text = e
        .error
        .to_string()
        .replace(
            "a date or a range (from and to)",
            &format!("`{date}` or a range (`{from}` and `{to}`)"),
        )
        .replace(
            "give from and to",
            &format!("give `{from}` and `{to}` together"),
        )
        .replace(
            "--to must not be before --from",
            &format!("`{to}` must not be before `{from}`"),
        );
    let err = ConfigError::new_err(format!("`{arg}`: {text}"));
    Python::attach(|py| {
        // Best effort, as `transient` in `errors::exception_for`.
        let _ = err.value(py).setattr("argument", arg);
    });
    err
}

/// A store: a directory (`str` or `os.PathLike`), a `postgres://` URL, or
/// (as a source) an `http://` URL of the connector API.
pub struct LocationArg(pub Location);

impl<'a, 'py> FromPyObject<'a, 'py> for LocationArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let text: String = if let Ok(s) = obj.cast::<PyString>() {
            s.to_cow()?.to_string()
        } else if obj.hasattr("__fspath__")? {
            obj.call_method0("__fspath__")?.extract()?
        } else {
            return Err(PyTypeError::new_err(format!(
                "a location must be a directory (str or path) or a URL string, got {}",
                obj.get_type().name()?
            )));
        };
        text.parse::<Location>().map(LocationArg).map_err(to_py_err)
    }
}

/// The availability mapping of `availability=`: a dict (`available`,
/// `unavailable`, `excluded`: lists of ints or strs; `channel`: a str) or the
/// path of a TOML file (a str or an `os.PathLike`).
pub fn availability_arg(
    obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<windcore::Availability>> {
    use pyo3::types::{PyDict, PyString};
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut channel = None;
        let mut lists: Vec<(String, Vec<String>)> = Vec::new();
        for (k, v) in d.iter() {
            let key: String = k.extract().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err("availability: the keys are strs")
            })?;
            if key == "channel" {
                channel = Some(v.extract::<String>().map_err(|_| {
                    pyo3::exceptions::PyTypeError::new_err("availability: `channel` is a str")
                })?);
                continue;
            }
            let mut states = Vec::new();
            for item in v.try_iter().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(format!(
                    "availability: `{key}` is a list of state values"
                ))
            })? {
                let item = item?;
                let name = if item.is_instance_of::<pyo3::types::PyBool>() {
                    None
                } else if let Ok(i) = item.extract::<i64>() {
                    Some(i.to_string())
                } else if item.is_instance_of::<PyString>() {
                    Some(item.extract::<String>()?)
                } else {
                    None
                };
                let Some(name) = name else {
                    return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                        "availability: `{key}`: {} is not a state value (an int or a str)",
                        item.repr()?
                    )));
                };
                states.push(name);
            }
            lists.push((key, states));
        }
        return windcore::Availability::from_lists(channel, lists)
            .map(Some)
            .map_err(to_py_err);
    }
    let path: std::path::PathBuf = obj.extract().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err("availability: a dict or the path of a TOML file")
    })?;
    windcore::Availability::from_path(path)
        .map(Some)
        .map_err(to_py_err)
}
