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
//! Each day is generated from its own random stream, derived from the seed and
//! the date, so a day's data does not depend on which range it was generated
//! in (generating 10 days, or each of them one at a time, gives the same data).
//! The processes start each day from their stationary distribution.

use std::f64::consts::{PI, SQRT_2};

use polars::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::day::{Day, DayRange};
use crate::error::{Error, Result};
use crate::resample::TIMESTAMP;

/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 42;

/// Names of the variables of the source table, in column order.
pub const SOURCE_VARIABLES: [&str; 3] = ["wind_speed", "power", "ambient_temperature"];

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
}

impl Default for GeneratorBuilder {
    fn default() -> Self {
        GeneratorBuilder {
            seed: DEFAULT_SEED,
            missing_rate: 0.0,
            weibull_scale: 8.0,
            persistence: 0.995,
            rated_power_kw: 2000.0,
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

    /// Validates the parameters.
    pub fn build(self) -> Result<Generator> {
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

/// Generates 1-minute samples (`timestamp`, `wind_speed`, `power`,
/// `ambient_temperature`); see the [module docs](self) for the model.
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

    /// The 1440 samples of one UTC day.
    pub fn day(&self, day: Day) -> DataFrame {
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

    /// The samples of every day in `days`, in time order.
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
}
