//! A seeded, deterministic generator of 1-minute turbine samples.
//!
//! # The model
//!
//! * **Wind speed** is the length of a horizontal wind vector `(u, v)` whose
//!   components are independent, stationary AR(1) Gaussian processes with zero
//!   mean, standard deviation `σ = λ / √2` and minute-to-minute correlation
//!   `φ` (default 0.995, i.e. an e-folding time of about 3 hours). The length
//!   of such a vector is Rayleigh distributed, which is exactly the Weibull
//!   distribution with shape `k = 2` and scale `λ` (default 8 m/s, a typical
//!   onshore site), so the marginal is Weibull while successive minutes are
//!   strongly correlated.
//! * **Power** follows a 2 MW power curve: 0 below the cut-in speed (3 m/s) and
//!   from the cut-out speed (25 m/s) on, rated power from the rated speed
//!   (12 m/s), and a cubic ramp in between; Gaussian noise of 1.5 % of rated
//!   power is added while the turbine produces, and the result is clipped to
//!   `[0, 1.05 × rated]`, so power is never negative.
//! * **Ambient temperature** has a daily cycle of ±6 °C around a day mean
//!   (10 °C plus a per-day offset with standard deviation 2 °C), peaking at
//!   15:00 UTC, plus AR(1) noise.
//! * **Missing values**: with `missing_rate` p, each value of each variable is
//!   independently replaced by NULL with probability p.
//!
//! With one turbine (the default) a day is the reference layout: `timestamp`
//! and the [`SOURCE_VARIABLES`] `wind_speed`, `power`, `ambient_temperature`.
//!
//! ## A wind farm
//!
//! With [`turbines`](GeneratorBuilder::turbines) `n > 1` a day is the farm
//! layout: an `asset` column, `timestamp`, then the [`FARM_VARIABLES`]
//! `wind_speed`, `power`, `ambient_temperature`, `wind_direction`,
//! `nacelle_position`, `energy`, `state`, with all 1440 minutes of the first turbine in time
//! order, then those of the second, and so on. The turbines are named `T01`,
//! `T02`, …: `T` and the 1-based number, zero-padded to the width of `n` but
//! to at least two digits (`T001` … `T100` for 100 turbines).
//!
//! * **Shared farm wind**: the farm wind vector is the AR(1) `(u, v)` process
//!   above, so the farm wind speed `W` is Weibull distributed. Turbine `i` sees
//!   `W × (1 + εᵢ)`, where its turbulence `εᵢ` is its own AR(1) process with a
//!   standard deviation of 5 % and a minute-to-minute correlation of 0.9 (it
//!   decorrelates within about ten minutes), so the turbines' speeds are
//!   strongly correlated but not identical.
//! * **Power** follows the power curve of each turbine's own speed, with the
//!   noise and clipping above (never negative).
//! * **Ambient temperature** is the farm temperature (the model above) plus a
//!   small static per-turbine offset (standard deviation 0.3 °C).
//! * **Wind direction** (degrees in `[0, 360)`, where the wind comes from):
//!   the farm direction oscillates slowly around a per-day mean within 5° of
//!   north, with an amplitude of 40°–45° and a period of 8–16 hours, so it
//!   crosses north during every day, plus a slowly mean-reverting random walk
//!   (AR(1), standard deviation 1.5°). Each turbine adds its own AR(1) noise
//!   of 3° (correlation 0.9), and the result is wrapped into `[0, 360)`.
//! * **Nacelle position** (degrees in `[0, 360)`): each turbine yaws like a
//!   real one, with a yaw error. The nacelle stays put until the misalignment
//!   `|wrap180(direction − nacelle)|` exceeds the turbine's yaw threshold
//!   (8°–10°); it then turns to the current wind direction within the minute.
//!   A small static per-turbine offset (at most 3°, a calibration error of the
//!   nacelle sensor) is added, and the result is wrapped into `[0, 360)`.
//! * **Operating state** (`state`, a number holding an integer code; see
//!   [`STATES`]): each turbine runs through a day as a real one does, in
//!   runs of many minutes.
//!
//!   | code | name | when | power |
//!   |---|---|---|---|
//!   | 1 | `running` | otherwise | the power curve |
//!   | 2 | `low_wind` | from a speed below cut-in (3 m/s) until it reaches 3.5 m/s | 0 |
//!   | 3 | `fault` | about one fault per four days of running, 10 minutes to 8 hours (mean 1 hour) | 0 |
//!   | 4 | `maintenance` | a visit on one day in 15, starting 08:00–12:00 UTC, 2–6 hours | 0 |
//!   | 5 | `high_wind` | from the cut-out speed (25 m/s) until the speed falls below 20 m/s | 0 |
//!
//!   Maintenance overrides a fault, a fault overrides the wind's state. The
//!   state a day starts in follows from the speed at midnight (no fault or
//!   visit carries over from the previous day).
//! * **Energy counter** (`energy`, kWh): the energy the turbine produced
//!   since 00:00 UTC, the integral of its power (each minute adds
//!   power / 60, the sample at minute m includes minute m), so it
//!   restarts from 0 every midnight, as a SCADA "production today"
//!   counter does. On top of that, turbine `T02`'s counter is reset to 0
//!   once every ten days (on 2024-01-03, and every tenth day before and
//!   after), at a minute between 10:00 and 18:00 UTC. Under the counter
//!   rule (a decrease is a reset and its increment is the new value), the
//!   increments of a day add up to exactly the energy of the day's power
//!   samples (without missing values). A counter that never restarts would
//!   need the production of every earlier day, which a day generated on its
//!   own does not have.
//! * **Missing values** apply to each value of each channel as above.
//!
//! Power is 0 whenever the state is not `running`; apart from that, every
//! channel but `state` and `energy` has the values it had before those
//! two existed: the operation draws from a random stream of its own.
//!
//! ## The availability the states suggest
//!
//! As IEC 61400-26-1 (time-based availability) sorts them: `running`,
//! `low_wind` and `high_wind` (out of environmental specification) are
//! available, `fault` (forced outage) is unavailable. Scheduled
//! maintenance is unavailable under the standard; service contracts
//! commonly exclude it, as this mapping does:
//!
//! ```toml
//! channel = "state"
//! available = [1, 2, 5]
//! unavailable = [3]
//! excluded = [4]
//! ```
//!
//! ([`STATE_AVAILABILITY_TOML`] holds it, with comments.)
//!
//! Each day is generated from its own random stream, derived from the seed and
//! the date, so a day's data does not depend on which range it was generated
//! in (generating 10 days, or each of them one at a time, gives the same data).
//! The processes start each day from their stationary distribution. In a farm,
//! the shared farm processes and each turbine have their own streams, derived
//! from the seed, the date and the turbine's number, so turbine `T03` of a
//! 5-turbine farm is the same as `T03` of a 50-turbine farm with the same seed.

mod farm;
mod operations;
mod process;

use polars::prelude::*;

use crate::day::{Day, DayRange};
use crate::error::{Error, Result};
use crate::schema::TIMESTAMP;
use crate::setting::Setting;
pub use operations::{STATES, STATE_AVAILABILITY_TOML};
use process::{noisy_power, Stream, Weather};

/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 42;

/// Names of the variables of the source table, in column order.
pub const SOURCE_VARIABLES: [&str; 3] = ["wind_speed", "power", "ambient_temperature"];

/// Names of the variables of a farm (a generator with more than one turbine),
/// in column order after `asset` and `timestamp`: the [`SOURCE_VARIABLES`],
/// the wind direction and the nacelle position, both in degrees in
/// `[0, 360)`, the energy counter in kWh and the operating state (a code of
/// [`STATES`]); see the [module docs](self).
pub const FARM_VARIABLES: [&str; 7] = [
    "wind_speed",
    "power",
    "ambient_temperature",
    "wind_direction",
    "nacelle_position",
    "energy",
    "state",
];

/// The farm's counter channel: the energy produced since midnight (UTC), in kWh.
pub const ENERGY_CHANNEL: &str = "energy";

/// The farm's state channel: a code of [`STATES`].
pub const STATE_CHANNEL: &str = "state";

/// The largest number of turbines a generator accepts.
pub const MAX_TURBINES: u32 = 10_000;

const MICROS_PER_MINUTE: i64 = 60_000_000;
/// The power curve's cut-in speed in m/s.
const CUT_IN: f64 = 3.0;
/// The power curve's rated speed in m/s.
const RATED: f64 = 12.0;
/// The power curve's cut-out speed in m/s.
const CUT_OUT: f64 = 25.0;
const MINUTES_PER_DAY: usize = 1440;

/// Configures a [`Generator`]; [`build`](GeneratorBuilder::build) validates.
#[derive(Debug, Clone)]
pub struct GeneratorBuilder {
    seed: u64,
    missing_rate: f64,
    weibull_scale: f64,
    persistence: f64,
    rated_power_kw: f64,
    turbines: u32,
}

impl Default for GeneratorBuilder {
    fn default() -> Self {
        GeneratorBuilder {
            seed: DEFAULT_SEED,
            missing_rate: 0.0,
            weibull_scale: 8.0,
            persistence: 0.995,
            rated_power_kw: 2000.0,
            turbines: 1,
        }
    }
}

impl GeneratorBuilder {
    /// Random seed. Default [`DEFAULT_SEED`].
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Probability in `[0, 1]` that a value is missing (NULL). Default 0.
    pub fn missing_rate(mut self, p: f64) -> Self {
        self.missing_rate = p;
        self
    }

    /// Weibull scale λ of the wind speed in m/s (shape is 2). Default 8.
    pub fn weibull_scale(mut self, lambda: f64) -> Self {
        self.weibull_scale = lambda;
        self
    }

    /// Minute-to-minute correlation of the wind components, in `[0, 1)`. Default 0.995.
    pub fn persistence(mut self, phi: f64) -> Self {
        self.persistence = phi;
        self
    }

    /// Rated power of the turbine in kW. Default 2000.
    pub fn rated_power_kw(mut self, p: f64) -> Self {
        self.rated_power_kw = p;
        self
    }

    /// Number of turbines, in `1..=`[`MAX_TURBINES`]. Default 1: the reference
    /// layout; more than one generates a farm (see the [module docs](self)).
    pub fn turbines(mut self, n: u32) -> Self {
        self.turbines = n;
        self
    }

    /// Validates the parameters.
    pub fn build(self) -> Result<Generator> {
        if !(1..=MAX_TURBINES).contains(&self.turbines) {
            return Err(Error::config(
                Setting::Turbines,
                format!("{} is not in 1..={MAX_TURBINES}", self.turbines),
            ));
        }
        if !(0.0..=1.0).contains(&self.missing_rate) {
            return Err(Error::config(
                Setting::MissingRate,
                format!("{} is not a probability in [0, 1]", self.missing_rate),
            ));
        }
        if !(self.weibull_scale.is_finite() && self.weibull_scale > 0.0) {
            return Err(Error::config(
                Setting::WeibullScale,
                "must be a positive number of m/s",
            ));
        }
        if !(0.0..1.0).contains(&self.persistence) {
            return Err(Error::config(Setting::Persistence, "must be in [0, 1)"));
        }
        if !(self.rated_power_kw.is_finite() && self.rated_power_kw > 0.0) {
            return Err(Error::config(
                Setting::RatedPower,
                "must be a positive number of kW",
            ));
        }
        Ok(Generator { cfg: self })
    }
}

/// Generates 1-minute samples: for one turbine `timestamp`, `wind_speed`,
/// `power`, `ambient_temperature`; for a farm `asset`, `timestamp` and the
/// [`FARM_VARIABLES`]. See the [module docs](self) for the model.
#[derive(Debug, Clone)]
pub struct Generator {
    cfg: GeneratorBuilder,
}

impl Default for Generator {
    fn default() -> Self {
        GeneratorBuilder::default()
            .build()
            .expect("defaults are valid")
    }
}

impl Generator {
    /// A builder with the defaults.
    pub fn builder() -> GeneratorBuilder {
        GeneratorBuilder::default()
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.cfg.seed
    }

    /// The number of turbines; more than one makes a farm.
    pub fn turbines(&self) -> u32 {
        self.cfg.turbines
    }

    /// Whether this generates a farm (more than one turbine), whose days have
    /// the `asset` column and the [`FARM_VARIABLES`].
    pub fn is_farm(&self) -> bool {
        self.cfg.turbines > 1
    }

    /// The names of the variable columns of a day, in order:
    /// [`SOURCE_VARIABLES`] for one turbine, [`FARM_VARIABLES`] for a farm.
    pub fn variables(&self) -> &'static [&'static str] {
        if self.is_farm() {
            &FARM_VARIABLES
        } else {
            &SOURCE_VARIABLES
        }
    }

    /// The asset names of a farm, in row order: `T01`, `T02`, … (zero-padded to
    /// the width of the number of turbines, at least two digits). Empty for a
    /// single turbine, whose days have no `asset` column.
    pub fn assets(&self) -> Vec<String> {
        if !self.is_farm() {
            return Vec::new();
        }
        let n = self.cfg.turbines;
        let width = n.to_string().len().max(2);
        (1..=n).map(|i| format!("T{i:0width$}")).collect()
    }

    /// The turbine's power curve without noise, in kW, for a wind speed in m/s.
    pub fn power_curve(&self, wind_speed: f64) -> f64 {
        let rated = self.cfg.rated_power_kw;
        if !(CUT_IN..CUT_OUT).contains(&wind_speed) {
            0.0
        } else if wind_speed >= RATED {
            rated
        } else {
            rated * (wind_speed.powi(3) - CUT_IN.powi(3)) / (RATED.powi(3) - CUT_IN.powi(3))
        }
    }

    /// The samples of one UTC day: 1440 rows for one turbine, 1440 per
    /// turbine (grouped by turbine, each in time order) for a farm.
    pub fn day(&self, day: Day) -> DataFrame {
        if self.is_farm() {
            self.farm_day(day)
        } else {
            self.reference_day(day)
        }
    }

    /// The reference layout: one turbine, no `asset` column.
    fn reference_day(&self, day: Day) -> DataFrame {
        let c = &self.cfg;
        let mut stream = Stream::reference(c.seed, day);
        let mut weather = Weather::start(c, &mut stream);
        let start = day.start().timestamp_micros();
        let mut ts = Vec::with_capacity(MINUTES_PER_DAY);
        let mut wind = Vec::with_capacity(MINUTES_PER_DAY);
        let mut power = Vec::with_capacity(MINUTES_PER_DAY);
        let mut temp = Vec::with_capacity(MINUTES_PER_DAY);
        for minute in 0..MINUTES_PER_DAY {
            if minute > 0 {
                weather.step(&mut stream);
            }
            let ws = weather.wind_speed();
            let p = noisy_power(c, self.power_curve(ws), &mut stream);
            let t = weather.temperature(minute);
            ts.push(start + minute as i64 * MICROS_PER_MINUTE);
            wind.push((!stream.missing(c.missing_rate)).then_some(ws));
            power.push((!stream.missing(c.missing_rate)).then_some(p));
            temp.push((!stream.missing(c.missing_rate)).then_some(t));
        }
        let ts = Int64Chunked::from_vec(TIMESTAMP.into(), ts)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        DataFrame::new_infer_height(vec![
            ts.into_series().into(),
            Column::new(SOURCE_VARIABLES[0].into(), wind),
            Column::new(SOURCE_VARIABLES[1].into(), power),
            Column::new(SOURCE_VARIABLES[2].into(), temp),
        ])
        .expect("columns have equal length")
    }

    /// The samples of every day in `days`, day after day; each day's rows are
    /// those of [`day`](Self::day) (for a farm: grouped by turbine within the
    /// day).
    pub fn days(&self, days: DayRange) -> Result<DataFrame> {
        let mut out: Option<DataFrame> = None;
        for d in days.iter() {
            let df = self.day(d);
            match out.as_mut() {
                None => out = Some(df),
                Some(acc) => {
                    acc.vstack_mut(&df)?;
                }
            }
        }
        let mut out = out.expect("a day range holds at least one day");
        out.rechunk_mut();
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
