//! The generator as it was before the split into modules, kept only to
//! check that the new code generates bit-identical data. Test-only.
#![allow(dead_code)]

use std::f64::consts::{PI, SQRT_2};

use polars::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

use crate::day::{Day, DayRange};
use crate::error::{Error, Result};
use crate::resample::{ASSET, TIMESTAMP};

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
