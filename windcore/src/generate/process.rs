//! The random parts of the generator, written once: the random stream of a
//! day, the AR(1) process, the weather (wind vector and temperature) that a
//! single turbine and a farm share, and the noisy power curve.

use std::f64::consts::{PI, SQRT_2};
use std::ops::Range;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::GeneratorBuilder;
use crate::day::Day;

/// One random stream: a ChaCha8 generator and the draws the model makes
/// from it.
pub(super) struct Stream {
    rng: ChaCha8Rng,
    normal: Normal<f64>,
}

impl Stream {
    /// The stream of a day of the reference layout (one turbine).
    pub(super) fn reference(seed: u64, day: Day) -> Stream {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(day.days_since_epoch() as u64);
        Stream::new(rng)
    }

    /// The stream of one part of a farm's day: `part` 0 drives the shared
    /// farm weather, `part` i ≥ 1 turbine i. It depends on the seed, the part
    /// and the date only (not on the number of turbines), and differs from
    /// the stream of the reference layout.
    pub(super) fn farm(seed: u64, day: Day, part: u32) -> Stream {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(b"windfarm");
        key[16..24].copy_from_slice(&u64::from(part).to_le_bytes());
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(day.days_since_epoch() as u64);
        Stream::new(rng)
    }

    /// The stream of turbine `number`'s operation (its state and energy
    /// counter) on a day: like [`farm`](Self::farm), but its own, so that
    /// the operation draws nothing from the streams of the other channels.
    pub(super) fn operations(seed: u64, day: Day, number: u32) -> Stream {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(b"windops\0");
        key[16..24].copy_from_slice(&u64::from(number).to_le_bytes());
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(day.days_since_epoch() as u64);
        Stream::new(rng)
    }

    fn new(rng: ChaCha8Rng) -> Stream {
        Stream {
            rng,
            normal: Normal::new(0.0, 1.0).expect("valid normal"),
        }
    }

    /// A standard normal draw.
    pub(super) fn gauss(&mut self) -> f64 {
        self.normal.sample(&mut self.rng)
    }

    /// A uniform draw from `range`.
    pub(super) fn uniform(&mut self, range: Range<f64>) -> f64 {
        self.rng.random_range(range)
    }

    /// Whether a value is missing, with probability `rate` (no draw at 0).
    pub(super) fn missing(&mut self, rate: f64) -> bool {
        rate > 0.0 && self.rng.random_bool(rate)
    }
}

/// A stationary AR(1) Gaussian process with zero mean, standard deviation
/// `σ` and minute-to-minute correlation `φ`:
/// `x' = φ x + σ √(1 − φ²) ε`, with `ε` standard normal.
pub(super) struct Ar1 {
    phi: f64,
    innovation: f64,
    value: f64,
}

impl Ar1 {
    /// The process started from its stationary distribution (one draw).
    pub(super) fn start(phi: f64, sigma: f64, stream: &mut Stream) -> Ar1 {
        Ar1 {
            phi,
            innovation: sigma * (1.0 - phi * phi).sqrt(),
            value: sigma * stream.gauss(),
        }
    }

    /// The current value.
    pub(super) fn value(&self) -> f64 {
        self.value
    }

    /// Moves on one minute (one draw).
    pub(super) fn step(&mut self, stream: &mut Stream) {
        self.value = self.phi * self.value + self.innovation * stream.gauss();
    }
}

/// The wind vector and the temperature of one site for one day: the
/// components `(u, v)` of the wind are AR(1) with `σ = λ / √2` (so the speed
/// is Weibull with shape 2 and scale `λ`), and the temperature has a daily
/// cycle of ±6 °C around a day mean (10 °C ± 2 °C), peaking at 15:00 UTC,
/// plus AR(1) noise.
pub(super) struct Weather {
    u: Ar1,
    v: Ar1,
    day_mean_temperature: f64,
    temperature_noise: Ar1,
}

impl Weather {
    /// The weather at midnight, from its stationary distribution (four draws).
    pub(super) fn start(cfg: &GeneratorBuilder, stream: &mut Stream) -> Weather {
        let sigma = cfg.weibull_scale / SQRT_2;
        let u = Ar1::start(cfg.persistence, sigma, stream);
        let v = Ar1::start(cfg.persistence, sigma, stream);
        let day_mean_temperature = 10.0 + 2.0 * stream.gauss();
        let temperature_noise = Ar1::start(0.98, 0.5, stream);
        Weather {
            u,
            v,
            day_mean_temperature,
            temperature_noise,
        }
    }

    /// Moves on one minute (three draws).
    pub(super) fn step(&mut self, stream: &mut Stream) {
        self.u.step(stream);
        self.v.step(stream);
        self.temperature_noise.step(stream);
    }

    /// The wind speed in m/s: the length of the wind vector.
    pub(super) fn wind_speed(&self) -> f64 {
        let (u, v) = (self.u.value(), self.v.value());
        (u * u + v * v).sqrt()
    }

    /// The temperature in °C at `minute` of the day.
    pub(super) fn temperature(&self, minute: usize) -> f64 {
        let hour = minute as f64 / 60.0;
        self.day_mean_temperature
            + 6.0 * (2.0 * PI * (hour - 9.0) / 24.0).sin()
            + self.temperature_noise.value()
    }
}

/// Power in kW for `ideal` (the power curve at the wind speed): while the
/// turbine produces, plus Gaussian noise of 1.5 % of rated power (one draw),
/// clipped to `[0, 1.05 × rated]`; 0 otherwise (no draw).
pub(super) fn noisy_power(cfg: &GeneratorBuilder, ideal: f64, stream: &mut Stream) -> f64 {
    if ideal > 0.0 {
        let noise = 0.015 * cfg.rated_power_kw;
        (ideal + noise * stream.gauss()).clamp(0.0, 1.05 * cfg.rated_power_kw)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ar1_has_its_standard_deviation_and_correlation() {
        let mut stream = Stream::farm(1, "2024-01-01".parse().unwrap(), 9);
        let mut x = Ar1::start(0.9, 2.0, &mut stream);
        let v: Vec<f64> = (0..200_000)
            .map(|_| {
                x.step(&mut stream);
                x.value()
            })
            .collect();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let lag1 = v
            .windows(2)
            .map(|w| (w[0] - mean) * (w[1] - mean))
            .sum::<f64>()
            / (n - 1.0)
            / var;
        assert!(mean.abs() < 0.1, "mean {mean}");
        assert!((var.sqrt() - 2.0).abs() < 0.05, "std {}", var.sqrt());
        assert!((lag1 - 0.9).abs() < 0.01, "lag-1 correlation {lag1}");
    }

    #[test]
    fn power_is_never_negative_and_zero_without_draw_when_idle() {
        let cfg = GeneratorBuilder::default();
        let mut a = Stream::reference(3, "2024-01-01".parse().unwrap());
        let mut b = Stream::reference(3, "2024-01-01".parse().unwrap());
        assert_eq!(noisy_power(&cfg, 0.0, &mut a), 0.0);
        // No draw was made: both streams are still in step.
        assert_eq!(a.gauss().to_bits(), b.gauss().to_bits());
        for _ in 0..1000 {
            let p = noisy_power(&cfg, 1.0, &mut a);
            assert!((0.0..=2100.0).contains(&p));
        }
    }
}
