//! Time-based availability (IEC 61400-26-1) from a state channel: a mapping
//! of state values to [`Category`], read from TOML, and the one rule that
//! turns seconds into a ratio ([`ratio`]).
//!
//! ```toml
//! channel = "status"          # optional when the run has one state channel
//! available = [1, 2, "running"]
//! unavailable = [5, 6]
//! excluded = [9]
//! ```
//!
//! A state value is a whole number or a text; a state the mapping does not
//! name, and time without data, count as `unknown`. The resampler writes per
//! window `available_seconds`, `unavailable_seconds`, `excluded_seconds`,
//! `unknown_seconds` (adding up to the window length) and `availability`.
//! A day's or a month's availability is [`ratio`] of the sums of its windows'
//! seconds, never a mean of the windows' ratios.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::error::{Error, Result};
use crate::setting::Setting;

mod daily;

#[cfg(feature = "server")]
pub(crate) use daily::availability_of;
pub use daily::{target_availability, DayAvailability};

/// What a state counts as for availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// The turbine could produce (running, low-wind standby, ...).
    Available,
    /// It could not, for reasons the operator answers for (fault, forced outage).
    Unavailable,
    /// Left out of the ratio (scheduled maintenance, grid outage, owner's stop).
    Excluded,
}

impl Category {
    /// Every category, in the order of the signals.
    pub const ALL: [Category; 3] = [
        Category::Available,
        Category::Unavailable,
        Category::Excluded,
    ];

    /// `available`, `unavailable` or `excluded`: the TOML key and the signal
    /// prefix (`available_seconds`).
    pub fn name(self) -> &'static str {
        match self {
            Category::Available => "available",
            Category::Unavailable => "unavailable",
            Category::Excluded => "excluded",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The signals availability adds per window, in output order.
pub const SIGNALS: [&str; 5] = [
    "availability",
    "available_seconds",
    "unavailable_seconds",
    "excluded_seconds",
    "unknown_seconds",
];

/// `available / (available + unavailable)`, or `None` when both are 0 (or
/// either is not a finite, non-negative number). The one rule for a window,
/// a day or a month: pass the sums of the windows' seconds.
///
/// ```
/// assert_eq!(windcore::availability::ratio(540.0, 60.0), Some(0.9));
/// assert_eq!(windcore::availability::ratio(0.0, 0.0), None);
/// ```
pub fn ratio(available_s: f64, unavailable_s: f64) -> Option<f64> {
    let ok = |x: f64| x.is_finite() && x >= 0.0;
    if !ok(available_s) || !ok(unavailable_s) {
        return None;
    }
    let total = available_s + unavailable_s;
    (total > 0.0).then(|| available_s / total)
}

/// A state value as the mapping and the signal names write it: a whole
/// number without `.0` (`3`, `-1`), another number as Rust prints it
/// (`2.5`), a text as it is.
pub fn state_name(value: f64) -> String {
    if value == value.trunc() && value.abs() < 9.0e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// A mapping of state values to [`Category`] (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Availability {
    channel: Option<String>,
    map: BTreeMap<String, Category>,
}

impl Availability {
    /// An empty mapping (every state `unknown`) for `channel` (`None`: the
    /// run's only state channel).
    pub fn new(channel: Option<String>) -> Self {
        Availability {
            channel,
            map: BTreeMap::new(),
        }
    }

    /// Assigns `value` (as [`state_name`] writes numbers) to `category`; an
    /// error if it is assigned to another category already.
    pub fn assign(&mut self, value: impl Into<String>, category: Category) -> Result<()> {
        let value = value.into();
        match self.map.get(&value) {
            Some(c) if *c != category => Err(Error::config(
                Setting::Availability,
                format!("the state `{value}` is listed under both `{c}` and `{category}`"),
            )),
            _ => {
                self.map.insert(value, category);
                Ok(())
            }
        }
    }

    /// The state channel the mapping applies to, if named.
    pub fn channel(&self) -> Option<&str> {
        self.channel.as_deref()
    }

    /// The same mapping for `channel`.
    pub fn with_channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = Some(channel.into());
        self
    }

    /// The category of a state (as [`state_name`] writes it); `None`: unknown.
    pub fn category(&self, state: &str) -> Option<Category> {
        self.map.get(state).copied()
    }

    /// The states and their categories, ordered by state.
    pub fn entries(&self) -> impl Iterator<Item = (&str, Category)> {
        self.map.iter().map(|(s, c)| (s.as_str(), *c))
    }

    /// A mapping from its parts: `channel`, and lists of state names (as
    /// [`state_name`] writes numbers) under the keys `available`,
    /// `unavailable` and `excluded`. An unknown key or a state in two
    /// categories is an error.
    pub fn from_lists<K: AsRef<str>>(
        channel: Option<String>,
        lists: impl IntoIterator<Item = (K, Vec<String>)>,
    ) -> Result<Self> {
        let mut out = Availability::new(channel);
        for (key, states) in lists {
            let key = key.as_ref();
            let Some(cat) = Category::ALL.into_iter().find(|c| c.name() == key) else {
                return Err(Error::config(
                    Setting::Availability,
                    format!(
                        "unknown key `{key}` (expected available, unavailable, excluded, channel)"
                    ),
                ));
            };
            for s in states {
                out.assign(s, cat)?;
            }
        }
        Ok(out)
    }

    /// Reads a mapping from TOML text (keys `available`, `unavailable`,
    /// `excluded`: lists of whole numbers or texts; `channel`: a text).
    pub fn from_toml(text: &str) -> Result<Self> {
        let bad = |detail: String| Error::config(Setting::Availability, detail);
        let doc: toml_edit::DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| bad(format!("not valid TOML: {e}")))?;
        let mut channel = None;
        let mut lists: Vec<(String, Vec<String>)> = Vec::new();
        for (key, item) in doc.as_table().iter() {
            if key == "channel" {
                let ch = item
                    .as_str()
                    .ok_or_else(|| bad("`channel` must be a text (the state channel)".into()))?;
                channel = Some(ch.to_string());
                continue;
            }
            let Some(list) = item.as_array() else {
                if Category::ALL.iter().any(|c| c.name() == key) {
                    return Err(bad(format!("`{key}` must be a list of state values")));
                }
                lists.push((key.to_string(), Vec::new()));
                continue;
            };
            let mut states = Vec::new();
            for v in list.iter() {
                let name = if let Some(i) = v.as_integer() {
                    i.to_string()
                } else if let Some(s) = v.as_str() {
                    s.to_string()
                } else if let Some(f) = v.as_float() {
                    state_name(f)
                } else {
                    return Err(bad(format!(
                        "`{key}`: a {} is not a state value (a whole number or a text)",
                        v.type_name()
                    )));
                };
                states.push(name);
            }
            lists.push((key.to_string(), states));
        }
        Self::from_lists(channel, lists)
    }

    /// Reads a mapping from a TOML file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(
                Setting::Availability,
                format!("cannot read the mapping file {}: {e}", path.display()),
            )
        })?;
        Self::from_toml(&text).map_err(|e| match e {
            Error::InvalidConfig { setting, detail } => Error::InvalidConfig {
                setting,
                detail: format!("{}: {detail}", path.display()),
            },
            other => other,
        })
    }

    /// A stable text of the mapping, for fingerprints and settings.
    pub fn settings(&self) -> String {
        let mut s = format!("channel={}", self.channel.as_deref().unwrap_or(""));
        for (state, c) in &self.map {
            s.push_str(&format!(";{state}={c}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_mapping_and_rejects_bad_files() {
        let m = Availability::from_toml(
            "channel = \"status\"\navailable = [1, 2, \"running\"]\nunavailable = [5, 6]\nexcluded = [9]\n",
        )
        .unwrap();
        assert_eq!(m.channel(), Some("status"));
        assert_eq!(m.category("1"), Some(Category::Available));
        assert_eq!(m.category("running"), Some(Category::Available));
        assert_eq!(m.category("6"), Some(Category::Unavailable));
        assert_eq!(m.category("9"), Some(Category::Excluded));
        assert_eq!(m.category("7"), None);
        let err = |t: &str| Availability::from_toml(t).unwrap_err().to_string();
        assert!(err("availble = [1]").contains("unknown key `availble`"));
        assert!(err("available = [1]\nexcluded = [1]").contains("both"));
        assert!(err("available = 1").contains("list"));
        assert!(err("available = [true]").contains("not a state value"));
        assert!(err("available = [").contains("TOML"));
        let missing = Availability::from_path("/no/such/mapping.toml")
            .unwrap_err()
            .to_string();
        assert!(missing.contains("/no/such/mapping.toml"), "{missing}");
    }

    #[test]
    fn ratio_and_names() {
        assert_eq!(ratio(300.0, 300.0), Some(0.5));
        assert_eq!(ratio(0.0, 0.0), None);
        assert_eq!(ratio(0.0, 10.0), Some(0.0));
        assert_eq!(ratio(f64::NAN, 10.0), None);
        assert_eq!(state_name(3.0), "3");
        assert_eq!(state_name(-1.0), "-1");
        assert_eq!(state_name(2.5), "2.5");
    }
}
