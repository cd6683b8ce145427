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
//! `nacelle_position`, with all 1440 minutes of the first turbine in time
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
//! * **Missing values** apply to each value of each channel as above.
//!
//! Each day is generated from its own random stream, derived from the seed and
//! the date, so a day's data does not depend on which range it was generated
//! in (generating 10 days, or each of them one at a time, gives the same data).
//! The processes start each day from their stationary distribution. In a farm,
//! the shared farm processes and each turbine have their own streams, derived
//! from the seed, the date and the turbine's number, so turbine `T03` of a
//! 5-turbine farm is the same as `T03` of a 50-turbine farm with the same seed.

use std::f64::consts::{PI, SQRT_2};

use polars::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

use crate::day::{Day, DayRange};
use crate::error::{Error, Result};
use crate::schema::{ASSET, TIMESTAMP};

/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 42;

/// Names of the variables of the source table, in column order.
pub const SOURCE_VARIABLES: [&str; 3] = ["wind_speed", "power", "ambient_temperature"];

/// Names of the variables of a farm (a generator with more than one turbine),
/// in column order after `asset` and `timestamp`: the [`SOURCE_VARIABLES`],
/// then the wind direction and the nacelle position, both in degrees in
/// `[0, 360)`.
pub const FARM_VARIABLES: [&str; 5] = [
    "wind_speed",
    "power",
    "ambient_temperature",
    "wind_direction",
    "nacelle_position",
];

/// The largest number of turbines a generator accepts.
pub const MAX_TURBINES: u32 = 10_000;

const MICROS_PER_MINUTE: i64 = 60_000_000;
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
                "turbines",
                format!("{} is not in 1..={MAX_TURBINES}", self.turbines),
            ));
        }
        if !(0.0..=1.0).contains(&self.missing_rate) {
            return Err(Error::config(
                "missing rate",
                format!("{} is not a probability in [0, 1]", self.missing_rate),
            ));
        }
        if !(self.weibull_scale.is_finite() && self.weibull_scale > 0.0) {
            return Err(Error::config(
                "Weibull scale",
                "must be a positive number of m/s",
            ));
        }
        if !(0.0..1.0).contains(&self.persistence) {
            return Err(Error::config("persistence", "must be in [0, 1)"));
        }
        if !(self.rated_power_kw.is_finite() && self.rated_power_kw > 0.0) {
            return Err(Error::config(
                "rated power",
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
        const CUT_IN: f64 = 3.0;
        const RATED: f64 = 12.0;
        const CUT_OUT: f64 = 25.0;
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
        let mut rng = ChaCha8Rng::seed_from_u64(self.cfg.seed);
        rng.set_stream(day.days_since_epoch() as u64);
        let c = &self.cfg;
        let std_normal = Normal::new(0.0, 1.0).expect("valid normal");
        let sigma = c.weibull_scale / SQRT_2;
        let phi = c.persistence;
        let innov = sigma * (1.0 - phi * phi).sqrt();
        let mut u = sigma * std_normal.sample(&mut rng);
        let mut v = sigma * std_normal.sample(&mut rng);
        let day_mean_temp = 10.0 + 2.0 * std_normal.sample(&mut rng);
        let temp_phi = 0.98;
        let temp_sigma = 0.5;
        let mut temp_noise = temp_sigma * std_normal.sample(&mut rng);
        let power_noise = 0.015 * c.rated_power_kw;

        let start = day.start().timestamp_micros();
        let mut ts = Vec::with_capacity(MINUTES_PER_DAY);
        let mut wind = Vec::with_capacity(MINUTES_PER_DAY);
        let mut power = Vec::with_capacity(MINUTES_PER_DAY);
        let mut temp = Vec::with_capacity(MINUTES_PER_DAY);
        for minute in 0..MINUTES_PER_DAY {
            if minute > 0 {
                u = phi * u + innov * std_normal.sample(&mut rng);
                v = phi * v + innov * std_normal.sample(&mut rng);
                temp_noise = temp_phi * temp_noise
                    + temp_sigma * (1.0 - temp_phi * temp_phi).sqrt() * std_normal.sample(&mut rng);
            }
            let ws = (u * u + v * v).sqrt();
            let ideal = self.power_curve(ws);
            let p = if ideal > 0.0 {
                (ideal + power_noise * std_normal.sample(&mut rng))
                    .clamp(0.0, 1.05 * c.rated_power_kw)
            } else {
                0.0
            };
            let hour = minute as f64 / 60.0;
            let t = day_mean_temp + 6.0 * (2.0 * PI * (hour - 9.0) / 24.0).sin() + temp_noise;
            ts.push(start + minute as i64 * MICROS_PER_MINUTE);
            let mut missing = || c.missing_rate > 0.0 && rng.random_bool(c.missing_rate);
            wind.push((!missing()).then_some(ws));
            power.push((!missing()).then_some(p));
            temp.push((!missing()).then_some(t));
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

    /// A farm day: the shared farm weather, then each turbine from its own
    /// stream (in parallel), stacked turbine after turbine.
    fn farm_day(&self, day: Day) -> DataFrame {
        let farm = self.farm_weather(day);
        let turbines: Vec<[Vec<Option<f64>>; 5]> = (1..=self.cfg.turbines)
            .into_par_iter()
            .map(|number| self.turbine_day(day, number, &farm))
            .collect();
        let rows = turbines.len() * MINUTES_PER_DAY;
        let assets = self.assets();
        let asset = StringChunked::from_iter_values(
            ASSET.into(),
            assets
                .iter()
                .flat_map(|a| std::iter::repeat_n(a.as_str(), MINUTES_PER_DAY)),
        );
        let start = day.start().timestamp_micros();
        let ts = Int64Chunked::from_iter_values(
            TIMESTAMP.into(),
            (0..rows).map(|r| start + (r % MINUTES_PER_DAY) as i64 * MICROS_PER_MINUTE),
        )
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        let mut columns = vec![asset.into_series().into(), ts.into_series().into()];
        for (j, name) in FARM_VARIABLES.iter().enumerate() {
            let mut values = Vec::with_capacity(rows);
            for t in &turbines {
                values.extend_from_slice(&t[j]);
            }
            columns.push(Column::new((*name).into(), values));
        }
        DataFrame::new_infer_height(columns).expect("columns have equal length")
    }

    /// The random stream of one part of a farm's day: `part` 0 drives the
    /// shared farm weather, `part` i ≥ 1 turbine i. The stream depends on the
    /// seed, the part and the date only (not on the number of turbines), and
    /// differs from the stream of the reference layout.
    fn farm_rng(&self, day: Day, part: u32) -> ChaCha8Rng {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.cfg.seed.to_le_bytes());
        key[8..16].copy_from_slice(b"windfarm");
        key[16..24].copy_from_slice(&u64::from(part).to_le_bytes());
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(day.days_since_epoch() as u64);
        rng
    }

    /// The weather shared by a farm's turbines for one day.
    fn farm_weather(&self, day: Day) -> FarmWeather {
        let mut rng = self.farm_rng(day, 0);
        let c = &self.cfg;
        let std_normal = Normal::new(0.0, 1.0).expect("valid normal");
        let sigma = c.weibull_scale / SQRT_2;
        let phi = c.persistence;
        let innov = sigma * (1.0 - phi * phi).sqrt();
        let mut u = sigma * std_normal.sample(&mut rng);
        let mut v = sigma * std_normal.sample(&mut rng);
        let day_mean_temp = 10.0 + 2.0 * std_normal.sample(&mut rng);
        let temp_phi = 0.98;
        let temp_sigma = 0.5;
        let mut temp_noise = temp_sigma * std_normal.sample(&mut rng);
        // Direction: a slow oscillation around a mean near north, so that it
        // crosses north every day, plus a slowly mean-reverting random walk.
        let dir_mean: f64 = rng.random_range(-5.0..5.0);
        let dir_amplitude: f64 = rng.random_range(40.0..45.0);
        let dir_period: f64 = rng.random_range(8.0 * 60.0..16.0 * 60.0);
        let dir_phase: f64 = rng.random_range(0.0..2.0 * PI);
        let walk_phi: f64 = 0.995;
        let walk_sigma = 1.5;
        let mut walk = walk_sigma * std_normal.sample(&mut rng);

        let mut out = FarmWeather {
            wind_speed: Vec::with_capacity(MINUTES_PER_DAY),
            temperature: Vec::with_capacity(MINUTES_PER_DAY),
            direction: Vec::with_capacity(MINUTES_PER_DAY),
        };
        for minute in 0..MINUTES_PER_DAY {
            if minute > 0 {
                u = phi * u + innov * std_normal.sample(&mut rng);
                v = phi * v + innov * std_normal.sample(&mut rng);
                temp_noise = temp_phi * temp_noise
                    + temp_sigma * (1.0 - temp_phi * temp_phi).sqrt() * std_normal.sample(&mut rng);
                walk = walk_phi * walk
                    + walk_sigma * (1.0 - walk_phi * walk_phi).sqrt() * std_normal.sample(&mut rng);
            }
            let m = minute as f64;
            let hour = m / 60.0;
            out.wind_speed.push((u * u + v * v).sqrt());
            out.temperature
                .push(day_mean_temp + 6.0 * (2.0 * PI * (hour - 9.0) / 24.0).sin() + temp_noise);
            out.direction.push(
                dir_mean + dir_amplitude * (2.0 * PI * m / dir_period + dir_phase).sin() + walk,
            );
        }
        out
    }

    /// One turbine's channels ([`FARM_VARIABLES`] order) for a day, from its
    /// own stream; `number` is 1-based.
    fn turbine_day(&self, day: Day, number: u32, farm: &FarmWeather) -> [Vec<Option<f64>>; 5] {
        const TURBULENCE_PHI: f64 = 0.9;
        const TURBULENCE_SIGMA: f64 = 0.05;
        const DIRECTION_PHI: f64 = 0.9;
        const DIRECTION_SIGMA: f64 = 3.0;
        let mut rng = self.farm_rng(day, number);
        let c = &self.cfg;
        let std_normal = Normal::new(0.0, 1.0).expect("valid normal");
        let power_noise = 0.015 * c.rated_power_kw;
        let temp_offset = 0.3 * std_normal.sample(&mut rng);
        let nacelle_offset: f64 = std_normal.sample(&mut rng);
        let nacelle_offset = nacelle_offset.clamp(-3.0, 3.0);
        let yaw_threshold: f64 = rng.random_range(8.0..10.0);
        let initial_misalignment: f64 = rng.random_range(-yaw_threshold..yaw_threshold);
        let mut turbulence = TURBULENCE_SIGMA * std_normal.sample(&mut rng);
        let mut direction_noise = DIRECTION_SIGMA * std_normal.sample(&mut rng);
        let turbulence_innov = TURBULENCE_SIGMA * (1.0 - TURBULENCE_PHI.powi(2)).sqrt();
        let direction_innov = DIRECTION_SIGMA * (1.0 - DIRECTION_PHI.powi(2)).sqrt();
        let mut nacelle: Option<f64> = None;

        let mut out: [Vec<Option<f64>>; 5] =
            std::array::from_fn(|_| Vec::with_capacity(MINUTES_PER_DAY));
        for minute in 0..MINUTES_PER_DAY {
            if minute > 0 {
                turbulence =
                    TURBULENCE_PHI * turbulence + turbulence_innov * std_normal.sample(&mut rng);
                direction_noise =
                    DIRECTION_PHI * direction_noise + direction_innov * std_normal.sample(&mut rng);
            }
            let ws = (farm.wind_speed[minute] * (1.0 + turbulence)).max(0.0);
            let ideal = self.power_curve(ws);
            let p = if ideal > 0.0 {
                (ideal + power_noise * std_normal.sample(&mut rng))
                    .clamp(0.0, 1.05 * c.rated_power_kw)
            } else {
                0.0
            };
            let t = farm.temperature[minute] + temp_offset;
            let dir = wrap360(farm.direction[minute] + direction_noise);
            let nac = match nacelle {
                None => wrap360(dir + initial_misalignment),
                Some(n) if wrap180(dir - n).abs() > yaw_threshold => dir,
                Some(n) => n,
            };
            nacelle = Some(nac);
            let position = wrap360(nac + nacelle_offset);
            for (values, x) in out.iter_mut().zip([ws, p, t, dir, position]) {
                let missing = c.missing_rate > 0.0 && rng.random_bool(c.missing_rate);
                values.push((!missing).then_some(x));
            }
        }
        out
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

/// The weather shared by a farm's turbines, one value per minute of a day.
struct FarmWeather {
    /// Farm wind speed in m/s.
    wind_speed: Vec<f64>,
    /// Farm ambient temperature in °C.
    temperature: Vec<f64>,
    /// Farm wind direction in degrees, not wrapped (around 0).
    direction: Vec<f64>,
}

/// `degrees` wrapped into `[0, 360)`.
fn wrap360(degrees: f64) -> f64 {
    let r = degrees.rem_euclid(360.0);
    // rem_euclid of a tiny negative number rounds to 360.
    if r >= 360.0 {
        0.0
    } else {
        r
    }
}

/// `degrees` wrapped into `[-180, 180)`.
fn wrap180(degrees: f64) -> f64 {
    wrap360(degrees + 180.0) - 180.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        s.parse().unwrap()
    }

    #[test]
    fn deterministic_for_a_seed() {
        let g = Generator::default();
        let a = g.day(day("2024-01-01"));
        let b = g.day(day("2024-01-01"));
        assert!(a.equals_missing(&b));
        let other = Generator::builder()
            .seed(7)
            .build()
            .unwrap()
            .day(day("2024-01-01"));
        assert!(!a.equals_missing(&other));
        let next = g.day(day("2024-01-02"));
        assert!(!a.equals_missing(&next));
    }

    #[test]
    fn a_day_does_not_depend_on_the_range() {
        let g = Generator::default();
        let range = g
            .days(DayRange::starting(day("2024-01-01"), 3).unwrap())
            .unwrap();
        assert_eq!(range.height(), 3 * 1440);
        let third = g.day(day("2024-01-03"));
        assert!(range.slice(2 * 1440, 1440).equals_missing(&third));
    }

    #[test]
    fn physically_plausible() {
        let g = Generator::default();
        let df = g
            .days(DayRange::starting(day("2024-03-01"), 30).unwrap())
            .unwrap();
        let ws = df.column("wind_speed").unwrap().f64().unwrap().clone();
        let p = df.column("power").unwrap().f64().unwrap().clone();
        let n = ws.len() as f64;
        let mean = ws.sum().unwrap() / n;
        // Weibull(k=2, λ=8) has mean λ·Γ(1.5) ≈ 7.09 m/s; 30 days of a persistent process vary.
        assert!((4.5..10.0).contains(&mean), "mean wind {mean}");
        assert!(ws.min().unwrap() >= 0.0);
        assert!(p.min().unwrap() >= 0.0, "power is never negative");
        assert!(p.max().unwrap() <= 2100.0);
        // Strong minute-to-minute persistence.
        let v: Vec<f64> = ws.into_no_null_iter().collect();
        let diffs: f64 =
            v.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (v.len() - 1) as f64;
        assert!(diffs < 1.0, "mean minute-to-minute change {diffs}");
        let ts = df.column("timestamp").unwrap();
        assert_eq!(
            ts.dtype(),
            &DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        );
    }

    #[test]
    fn missing_rate() {
        let g = Generator::builder().missing_rate(0.1).build().unwrap();
        let df = g
            .days(DayRange::starting(day("2024-01-01"), 10).unwrap())
            .unwrap();
        let nulls = df.column("power").unwrap().null_count() as f64 / df.height() as f64;
        assert!((0.08..0.12).contains(&nulls), "{nulls}");
        assert!(Generator::builder().missing_rate(1.5).build().is_err());
        assert!(Generator::builder().missing_rate(f64::NAN).build().is_err());
    }

    const GOLDEN_WS0: f64 = 16.153004660881624;
    const GOLDEN_WS1439: f64 = 2.9518477990283687;
    const GOLDEN_P720: f64 = 127.36402227786857;
    const GOLDEN_T0: f64 = 4.24794667956896;
    const GOLDEN_WS_SUM: f64 = 8600.631150633975;

    fn farm(seed: u64, turbines: u32) -> Generator {
        Generator::builder()
            .seed(seed)
            .turbines(turbines)
            .build()
            .unwrap()
    }

    fn values(df: &DataFrame, column: &str) -> Vec<f64> {
        df.column(column)
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect()
    }

    fn correlation(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len() as f64;
        let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
        let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
        cov / (va * vb).sqrt()
    }

    #[test]
    fn one_turbine_is_the_reference_layout() {
        let g = Generator::default();
        assert_eq!(g.turbines(), 1);
        assert!(!g.is_farm());
        assert!(g.assets().is_empty());
        assert_eq!(g.variables(), &SOURCE_VARIABLES);
        let df = g.day(day("2024-01-01"));
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            ["timestamp", "wind_speed", "power", "ambient_temperature"]
        );
        assert_eq!(df.height(), 1440);
        // Explicitly one turbine is the same generator.
        let explicit = farm(DEFAULT_SEED, 1).day(day("2024-01-01"));
        assert!(df.equals_missing(&explicit));
        // The random stream of the reference layout is unchanged (values of
        // the generator before farms existed, seed 42, 2024-01-01).
        let ws = values(&df, "wind_speed");
        let p = values(&df, "power");
        let t = values(&df, "ambient_temperature");
        let golden = [
            (ws[0], GOLDEN_WS0),
            (ws[1439], GOLDEN_WS1439),
            (p[720], GOLDEN_P720),
            (t[0], GOLDEN_T0),
            (ws.iter().sum::<f64>(), GOLDEN_WS_SUM),
        ];
        for (i, (got, want)) in golden.into_iter().enumerate() {
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                "golden {i}: {got} != {want}"
            );
        }
    }

    #[test]
    fn turbines_are_validated() {
        assert!(Generator::builder().turbines(0).build().is_err());
        assert!(Generator::builder().turbines(10_001).build().is_err());
        assert_eq!(farm(1, 10_000).turbines(), 10_000);
        assert_eq!(farm(1, 2).turbines(), 2);
    }

    #[test]
    fn asset_names() {
        assert_eq!(farm(1, 2).assets(), ["T01", "T02"]);
        let nine = farm(1, 9).assets();
        assert_eq!((nine[0].as_str(), nine[8].as_str()), ("T01", "T09"));
        assert_eq!(farm(1, 10).assets()[9], "T10");
        let hundred = farm(1, 100).assets();
        assert_eq!(hundred.len(), 100);
        assert_eq!(
            (hundred[0].as_str(), hundred[99].as_str()),
            ("T001", "T100")
        );
        assert_eq!(farm(1, 10_000).assets()[0], "T00001");
    }

    #[test]
    fn farm_shape() {
        let g = farm(3, 3);
        assert!(g.is_farm());
        assert_eq!(g.variables(), &FARM_VARIABLES);
        let d = day("2024-05-17");
        let df = g.day(d);
        assert_eq!(df.height(), 3 * 1440);
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "asset",
                "timestamp",
                "wind_speed",
                "power",
                "ambient_temperature",
                "wind_direction",
                "nacelle_position"
            ]
        );
        assert_eq!(df.column("asset").unwrap().dtype(), &DataType::String);
        assert_eq!(
            df.column("timestamp").unwrap().dtype(),
            &DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        );
        for v in FARM_VARIABLES {
            assert_eq!(df.column(v).unwrap().dtype(), &DataType::Float64, "{v}");
        }
        let assets = df.column("asset").unwrap().str().unwrap().clone();
        let ts: Vec<i64> = df
            .column("timestamp")
            .unwrap()
            .datetime()
            .unwrap()
            .physical()
            .into_no_null_iter()
            .collect();
        let start = d.start().timestamp_micros();
        for (k, name) in ["T01", "T02", "T03"].iter().enumerate() {
            for m in 0..1440 {
                let r = k * 1440 + m;
                assert_eq!(assets.get(r), Some(*name));
                assert_eq!(ts[r], start + m as i64 * 60_000_000);
            }
        }
        let wide = farm(3, 100).day(d);
        assert_eq!(wide.height(), 100 * 1440);
        let a = wide.column("asset").unwrap().str().unwrap().clone();
        assert_eq!(a.get(0), Some("T001"));
        assert_eq!(a.get(100 * 1440 - 1), Some("T100"));
    }

    #[test]
    fn farm_is_deterministic() {
        let g = farm(11, 4);
        let d = day("2024-02-29");
        let a = g.day(d);
        assert!(a.equals_missing(&g.day(d)));
        assert!(!a.equals_missing(&farm(12, 4).day(d)));
        assert!(!a.equals_missing(&g.day(day("2024-03-01"))));
        // A day does not depend on the range it was generated in.
        let range = g
            .days(DayRange::starting(day("2024-02-28"), 3).unwrap())
            .unwrap();
        assert_eq!(range.height(), 3 * 4 * 1440);
        assert!(range.slice(4 * 1440, 4 * 1440).equals_missing(&a));
        // Nor a turbine on the size of the farm.
        let bigger = farm(11, 6).day(d);
        let first4 = bigger.slice(0, 4 * 1440);
        for v in FARM_VARIABLES {
            assert!(
                first4
                    .column(v)
                    .unwrap()
                    .equals_missing(a.column(v).unwrap()),
                "{v}"
            );
        }
        // With missing values too.
        let gm = Generator::builder()
            .seed(11)
            .turbines(4)
            .missing_rate(0.2)
            .build()
            .unwrap();
        assert!(gm.day(d).equals_missing(&gm.day(d)));
    }

    #[test]
    fn farm_direction_crosses_north() {
        for seed in 1..=8 {
            let g = farm(seed, 3);
            for d in ["2024-01-01", "2024-06-15", "2025-11-30"] {
                let df = g.day(day(d));
                let dir = values(&df, "wind_direction");
                assert!(dir.iter().all(|x| (0.0..360.0).contains(x)));
                for (k, turbine) in dir.chunks(1440).enumerate() {
                    assert!(
                        turbine.iter().any(|&x| x < 30.0) && turbine.iter().any(|&x| x > 330.0),
                        "seed {seed} {d} turbine {k} does not cross north"
                    );
                }
                // The farm direction (turbines' circular mean) crosses north too.
                let farm_dir: Vec<f64> = (0..1440)
                    .map(|m| {
                        let (s, c) = dir.chunks(1440).fold((0.0, 0.0), |(s, c), t| {
                            let r = t[m].to_radians();
                            (s + r.sin(), c + r.cos())
                        });
                        wrap360(s.atan2(c).to_degrees())
                    })
                    .collect();
                assert!(farm_dir.iter().any(|&x| x < 30.0));
                assert!(farm_dir.iter().any(|&x| x > 330.0));
                // It drifts slowly: small minute-to-minute changes.
                let steps = farm_dir
                    .windows(2)
                    .map(|w| wrap180(w[1] - w[0]).abs())
                    .fold(0.0, f64::max);
                assert!(steps < 15.0, "farm direction jumps by {steps}°");
            }
        }
    }

    #[test]
    fn nacelle_follows_the_direction_with_a_yaw_error() {
        for seed in [1, 2, 3] {
            let df = farm(seed, 5).day(day("2024-04-01"));
            let dir = values(&df, "wind_direction");
            let nac = values(&df, "nacelle_position");
            assert!(nac.iter().all(|x| (0.0..360.0).contains(x)));
            let errors: Vec<f64> = dir
                .iter()
                .zip(&nac)
                .map(|(d, n)| wrap180(d - n).abs())
                .collect();
            let close = errors.iter().filter(|&&e| e < 20.0).count() as f64 / errors.len() as f64;
            assert!(close > 0.95, "only {close} within 20°");
            // Some misalignment: the nacelle is not glued to the direction.
            let mean_error = errors.iter().sum::<f64>() / errors.len() as f64;
            assert!((1.0..10.0).contains(&mean_error), "mean error {mean_error}");
            // It stays put most minutes and yaws now and then.
            for turbine in nac.chunks(1440) {
                let moves = turbine.windows(2).filter(|w| w[0] != w[1]).count();
                assert!((5..720).contains(&moves), "{moves} yaw moves");
            }
        }
    }

    #[test]
    fn farm_physically_plausible() {
        for seed in [1, 5, 9] {
            let g = farm(seed, 4);
            let df = g
                .days(DayRange::starting(day("2024-09-01"), 3).unwrap())
                .unwrap();
            let ws = values(&df, "wind_speed");
            let p = values(&df, "power");
            assert!(ws.iter().all(|&x| x >= 0.0));
            assert!(p.iter().all(|&x| (0.0..=2100.0).contains(&x)));
            assert!(p.iter().any(|&x| x > 0.0));
            // Within each day, the turbines' speeds are strongly correlated
            // but not identical.
            for day_rows in ws.chunks(4 * 1440) {
                let t: Vec<&[f64]> = day_rows.chunks(1440).collect();
                for k in 1..4 {
                    let r = correlation(t[0], t[k]);
                    assert!(r > 0.8, "seed {seed}: correlation {r}");
                    let max_diff = t[0]
                        .iter()
                        .zip(t[k])
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max);
                    assert!(max_diff > 0.1, "turbines are identical");
                }
            }
            // Temperature: the farm's plus a small static offset.
            let temp = values(&df, "ambient_temperature");
            let t: Vec<&[f64]> = temp[..4 * 1440].chunks(1440).collect();
            let offsets: Vec<f64> = t[0].iter().zip(t[1]).map(|(a, b)| a - b).collect();
            assert!(offsets.iter().all(|o| (o - offsets[0]).abs() < 1e-9));
            assert!(offsets[0].abs() < 3.0);
        }
    }

    #[test]
    fn farm_missing_rate() {
        let g = Generator::builder()
            .turbines(5)
            .missing_rate(0.1)
            .build()
            .unwrap();
        let df = g.day(day("2024-01-01"));
        assert_eq!(df.column("asset").unwrap().null_count(), 0);
        assert_eq!(df.column("timestamp").unwrap().null_count(), 0);
        for v in FARM_VARIABLES {
            let nulls = df.column(v).unwrap().null_count() as f64 / df.height() as f64;
            assert!((0.08..0.12).contains(&nulls), "{v}: {nulls}");
        }
    }

    #[test]
    fn wrapping() {
        assert_eq!(wrap360(-1e-17), 0.0);
        assert_eq!(wrap360(360.0), 0.0);
        assert_eq!(wrap360(-30.0), 330.0);
        assert_eq!(wrap360(725.0), 5.0);
        assert_eq!(wrap180(350.0), -10.0);
        assert_eq!(wrap180(180.0), -180.0);
        assert_eq!(wrap180(10.0), 10.0);
    }
}
