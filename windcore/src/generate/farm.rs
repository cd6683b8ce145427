//! A wind farm's day: the weather the turbines share, then each turbine
//! (its turbulence, direction noise, yaw and power) from its own stream.

use std::f64::consts::PI;

use polars::prelude::*;
use rayon::prelude::*;

use super::operations::{Operation, STATE_RUNNING};
use super::process::{noisy_power, Ar1, Stream, Weather};
use super::{Generator, FARM_VARIABLES, MICROS_PER_MINUTE, MINUTES_PER_DAY};
use crate::day::Day;
use crate::schema::{ASSET, TIMESTAMP};

/// One turbine's channels for a day, in [`FARM_VARIABLES`] order.
type TurbineDay = [Vec<Option<f64>>; 7];

impl Generator {
    /// A farm day: the shared farm weather, then each turbine from its own
    /// stream (in parallel), stacked turbine after turbine.
    pub(super) fn farm_day(&self, day: Day) -> DataFrame {
        let farm = self.farm_weather(day);
        let turbines: Vec<TurbineDay> = (1..=self.cfg.turbines)
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

    /// The weather shared by a farm's turbines for one day.
    fn farm_weather(&self, day: Day) -> FarmWeather {
        let mut stream = Stream::farm(self.cfg.seed, day, 0);
        let mut weather = Weather::start(&self.cfg, &mut stream);
        // Direction: a slow oscillation around a mean near north, so that it
        // crosses north every day, plus a slowly mean-reverting random walk.
        let dir_mean = stream.uniform(-5.0..5.0);
        let dir_amplitude = stream.uniform(40.0..45.0);
        let dir_period = stream.uniform(8.0 * 60.0..16.0 * 60.0);
        let dir_phase = stream.uniform(0.0..2.0 * PI);
        let mut walk = Ar1::start(0.995, 1.5, &mut stream);

        let mut out = FarmWeather {
            wind_speed: Vec::with_capacity(MINUTES_PER_DAY),
            temperature: Vec::with_capacity(MINUTES_PER_DAY),
            direction: Vec::with_capacity(MINUTES_PER_DAY),
        };
        for minute in 0..MINUTES_PER_DAY {
            if minute > 0 {
                weather.step(&mut stream);
                walk.step(&mut stream);
            }
            let m = minute as f64;
            out.wind_speed.push(weather.wind_speed());
            out.temperature.push(weather.temperature(minute));
            out.direction.push(
                dir_mean
                    + dir_amplitude * (2.0 * PI * m / dir_period + dir_phase).sin()
                    + walk.value(),
            );
        }
        out
    }

    /// One turbine's channels ([`FARM_VARIABLES`] order) for a day, from its
    /// own stream, and its operation (state, energy) from another; `number`
    /// is 1-based.
    fn turbine_day(&self, day: Day, number: u32, farm: &FarmWeather) -> TurbineDay {
        let c = &self.cfg;
        let mut stream = Stream::farm(c.seed, day, number);
        let temp_offset = 0.3 * stream.gauss();
        let nacelle_offset = stream.gauss().clamp(-3.0, 3.0);
        let yaw_threshold = stream.uniform(8.0..10.0);
        let initial_misalignment = stream.uniform(-yaw_threshold..yaw_threshold);
        // Turbulence: 5 %, decorrelating within about ten minutes.
        let mut turbulence = Ar1::start(0.9, 0.05, &mut stream);
        let mut direction_noise = Ar1::start(0.9, 3.0, &mut stream);
        let mut nacelle: Option<f64> = None;
        let mut operation: Option<Operation> = None;

        let mut out: TurbineDay = std::array::from_fn(|_| Vec::with_capacity(MINUTES_PER_DAY));
        for minute in 0..MINUTES_PER_DAY {
            if minute > 0 {
                turbulence.step(&mut stream);
                direction_noise.step(&mut stream);
            }
            let ws = (farm.wind_speed[minute] * (1.0 + turbulence.value())).max(0.0);
            let op = operation.get_or_insert_with(|| Operation::start(c.seed, day, number, ws));
            let state = op.state(minute, ws);
            // The power draw is made in every state, so that the stream stays in step.
            let mut p = noisy_power(c, self.power_curve(ws), &mut stream);
            if state != STATE_RUNNING {
                p = 0.0;
            }
            let energy = op.energy(minute, p);
            let t = farm.temperature[minute] + temp_offset;
            let dir = wrap360(farm.direction[minute] + direction_noise.value());
            let nac = match nacelle {
                None => wrap360(dir + initial_misalignment),
                Some(n) if wrap180(dir - n).abs() > yaw_threshold => dir,
                Some(n) => n,
            };
            nacelle = Some(nac);
            let position = wrap360(nac + nacelle_offset);
            let (analog, ops) = out.split_at_mut(5);
            for (values, x) in analog.iter_mut().zip([ws, p, t, dir, position]) {
                values.push((!stream.missing(c.missing_rate)).then_some(x));
            }
            for (values, x) in ops.iter_mut().zip([energy, f64::from(state)]) {
                values.push((!op.missing(c.missing_rate)).then_some(x));
            }
        }
        out
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
pub(super) fn wrap360(degrees: f64) -> f64 {
    let r = degrees.rem_euclid(360.0);
    // rem_euclid of a tiny negative number rounds to 360.
    if r >= 360.0 {
        0.0
    } else {
        r
    }
}

/// `degrees` wrapped into `[-180, 180)`.
pub(super) fn wrap180(degrees: f64) -> f64 {
    wrap360(degrees + 180.0) - 180.0
}

#[cfg(test)]
mod tests {
    use super::super::tests::{day, farm, values};
    use super::*;
    use crate::day::DayRange;

    fn correlation(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len() as f64;
        let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
        let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
        cov / (va * vb).sqrt()
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
                "nacelle_position",
                "energy",
                "state"
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
