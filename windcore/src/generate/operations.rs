//! A farm turbine's operation: its operating state minute by minute and its
//! energy counter, drawn from a random stream of their own (so the other
//! channels keep their values; see the [module docs](super)).

use super::process::Stream;
use super::{CUT_IN, CUT_OUT, MINUTES_PER_DAY};
use crate::day::Day;

/// The state code of a turbine that produces.
pub(crate) const STATE_RUNNING: u8 = 1;
/// The state code of a turbine waiting for wind (below the cut-in speed).
pub(crate) const STATE_LOW_WIND: u8 = 2;
/// The state code of a turbine stopped by a fault.
pub(crate) const STATE_FAULT: u8 = 3;
/// The state code of a turbine stopped for (scheduled) maintenance.
pub(crate) const STATE_MAINTENANCE: u8 = 4;
/// The state code of a turbine stopped by a storm (wind from the cut-out speed on).
pub(crate) const STATE_HIGH_WIND: u8 = 5;

/// The state codes of a generated farm's `state` channel and their names, in
/// code order.
pub const STATES: [(u8, &str); 5] = [
    (STATE_RUNNING, "running"),
    (STATE_LOW_WIND, "low_wind"),
    (STATE_FAULT, "fault"),
    (STATE_MAINTENANCE, "maintenance"),
    (STATE_HIGH_WIND, "high_wind"),
];

/// The availability mapping (`--availability FILE`'s TOML) that the state
/// codes suggest, as the [module docs](super) explain: running, low wind and
/// high wind are available, a fault is unavailable, maintenance is excluded.
pub const STATE_AVAILABILITY_TOML: &str = "\
# IEC 61400-26-1 time-based availability of the generated farm's `state` codes.
# Scheduled maintenance (4) is unavailable under the standard; service contracts
# commonly exclude it, as here.
channel = \"state\"
available = [1, 2, 5]   # running, low wind, high wind (out of environmental specification)
unavailable = [3]       # fault (forced outage)
excluded = [4]          # maintenance
";

/// A waiting turbine starts again from this (smoothed) speed in m/s: cut-in
/// plus a hysteresis.
const RESTART_SPEED: f64 = CUT_IN + 0.5;
/// The shortest wait for wind, in minutes.
const MIN_WAIT_MINUTES: u32 = 10;
/// The weight of a new minute in the smoothed speed the controller decides
/// on (an exponential mean over about ten minutes).
const SMOOTHING: f64 = 0.1;
/// A turbine stopped by a storm starts again below this speed (m/s).
const STORM_RESTART_SPEED: f64 = CUT_OUT - 5.0;
/// Probability that a running turbine faults in a given minute (one fault in
/// about four days of running).
const FAULT_RATE: f64 = 1.0 / (4.0 * MINUTES_PER_DAY as f64);
/// Mean length of a fault beyond its first 10 minutes (exponential), in minutes.
const FAULT_MEAN_MINUTES: f64 = 50.0;
/// The longest fault, in minutes.
const FAULT_MAX_MINUTES: f64 = 8.0 * 60.0;
/// Probability that a turbine has a maintenance visit on a given day.
const MAINTENANCE_RATE: f64 = 1.0 / 15.0;
/// Turbine number whose counter is reset once every [`RESET_EVERY_DAYS`] days.
const RESET_TURBINE: u32 = 2;
/// The counter of [`RESET_TURBINE`] is reset on the days whose number since
/// the epoch is [`RESET_PHASE`] modulo this.
const RESET_EVERY_DAYS: i64 = 10;
/// See [`RESET_EVERY_DAYS`]: 2024-01-03 is one of these days.
const RESET_PHASE: i64 = 5;

/// One turbine's operation through a day.
pub(super) struct Operation {
    stream: Stream,
    /// The state that the wind alone calls for (running, low wind, high wind).
    wind_state: u8,
    /// The smoothed wind speed in m/s.
    smoothed: f64,
    /// Minutes in the current `wind_state`.
    in_state: u32,
    /// Minutes of the current fault still to come.
    fault_left: u32,
    /// The minutes `[start, end)` of the day's maintenance visit, if any.
    maintenance: Option<(usize, usize)>,
    /// The minute at which the energy counter is reset, if today.
    reset_at: Option<usize>,
    /// The energy counter in kWh.
    counter: f64,
}

impl Operation {
    /// The operation of turbine `number` (1-based) on `day`, from its own stream.
    pub(super) fn start(seed: u64, day: Day, number: u32, wind_speed: f64) -> Operation {
        let mut stream = Stream::operations(seed, day, number);
        let visit = stream.uniform(0.0..1.0) < MAINTENANCE_RATE;
        let begin = stream.uniform(8.0 * 60.0..12.0 * 60.0) as usize;
        let length = stream.uniform(2.0 * 60.0..6.0 * 60.0) as usize;
        let reset_minute = stream.uniform(10.0 * 60.0..18.0 * 60.0) as usize;
        let reset_day = number == RESET_TURBINE
            && day.days_since_epoch().rem_euclid(RESET_EVERY_DAYS) == RESET_PHASE;
        let wind_state = if wind_speed < CUT_IN {
            STATE_LOW_WIND
        } else if wind_speed >= CUT_OUT {
            STATE_HIGH_WIND
        } else {
            STATE_RUNNING
        };
        Operation {
            stream,
            wind_state,
            smoothed: wind_speed,
            in_state: 0,
            fault_left: 0,
            maintenance: visit.then_some((begin, begin + length)),
            reset_at: reset_day.then_some(reset_minute),
            counter: 0.0,
        }
    }

    /// The state in `minute` of the day, for the turbine's wind speed then
    /// (three draws).
    pub(super) fn state(&mut self, minute: usize, wind_speed: f64) -> u8 {
        if minute > 0 {
            self.smoothed += SMOOTHING * (wind_speed - self.smoothed);
            let s = self.smoothed;
            let next = match self.wind_state {
                STATE_RUNNING if wind_speed >= CUT_OUT => STATE_HIGH_WIND,
                STATE_RUNNING if s < CUT_IN => STATE_LOW_WIND,
                STATE_LOW_WIND if s >= RESTART_SPEED && self.in_state >= MIN_WAIT_MINUTES => {
                    STATE_RUNNING
                }
                STATE_HIGH_WIND if s < STORM_RESTART_SPEED => STATE_RUNNING,
                s => s,
            };
            self.in_state = if next == self.wind_state {
                self.in_state + 1
            } else {
                0
            };
            self.wind_state = next;
        }
        let fault_draw = self.stream.uniform(0.0..1.0);
        let fault_length = 10.0 - FAULT_MEAN_MINUTES * (1.0 - self.stream.uniform(0.0..1.0)).ln();
        if self
            .maintenance
            .is_some_and(|(a, b)| (a..b).contains(&minute))
        {
            self.fault_left = 0;
            return STATE_MAINTENANCE;
        }
        if self.fault_left > 0 {
            self.fault_left -= 1;
            return STATE_FAULT;
        }
        if self.wind_state == STATE_RUNNING && fault_draw < FAULT_RATE {
            self.fault_left = fault_length.min(FAULT_MAX_MINUTES) as u32 - 1;
            return STATE_FAULT;
        }
        self.wind_state
    }

    /// The energy counter in kWh at `minute`, after the turbine produced
    /// `power` kW through that minute: the day's energy so far, from 0 at
    /// midnight (UTC) or at the reset.
    pub(super) fn energy(&mut self, minute: usize, power: f64) -> f64 {
        if self.reset_at == Some(minute) {
            self.counter = 0.0;
        }
        self.counter += power / 60.0;
        self.counter
    }

    /// Whether a value is missing, with probability `rate` (no draw at 0).
    pub(super) fn missing(&mut self, rate: f64) -> bool {
        self.stream.missing(rate)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{day, farm, values};
    use super::*;
    use crate::day::DayRange;

    /// The lengths of the runs of equal values.
    fn runs(codes: &[f64]) -> Vec<usize> {
        let mut out = Vec::new();
        let mut n = 0;
        for (i, c) in codes.iter().enumerate() {
            if i > 0 && *c != codes[i - 1] {
                out.push(n);
                n = 0;
            }
            n += 1;
        }
        out.push(n);
        out
    }

    #[test]
    fn states_are_consistent_with_wind_and_power() {
        let g = farm(crate::DEFAULT_SEED, 6);
        let df = g
            .days(DayRange::starting(day("2024-01-01"), 30).unwrap())
            .unwrap();
        let ws = values(&df, "wind_speed");
        let p = values(&df, "power");
        let state = values(&df, "state");
        let mut seen = [0usize; 6];
        let mut low_wind = Vec::new();
        for ((w, p), s) in ws.iter().zip(&p).zip(&state) {
            let code = *s as u8;
            assert_eq!(f64::from(code), *s, "an integer code");
            assert!(STATES.iter().any(|(c, _)| *c == code), "code {code}");
            seen[code as usize] += 1;
            if code != STATE_RUNNING {
                assert_eq!(*p, 0.0, "no power in state {code}");
            }
            match code {
                STATE_LOW_WIND => low_wind.push(*w),
                STATE_RUNNING => assert!(*w < CUT_OUT, "running at {w} m/s"),
                _ => {}
            }
        }
        // The controller decides on a smoothed speed, so the speed of a
        // waiting turbine is mostly, not always, below cut-in.
        let mean_low = low_wind.iter().sum::<f64>() / low_wind.len() as f64;
        assert!(
            mean_low < CUT_IN,
            "waiting for wind at {mean_low} m/s on average"
        );
        let above = low_wind.iter().filter(|w| **w >= RESTART_SPEED).count();
        assert!(
            (above as f64) < 0.3 * low_wind.len() as f64,
            "{above} of {}",
            low_wind.len()
        );
        let n = state.len() as f64;
        let share = |code: u8| seen[code as usize] as f64 / n;
        assert!(
            share(STATE_RUNNING) > 0.7,
            "running {}",
            share(STATE_RUNNING)
        );
        assert!(
            share(STATE_LOW_WIND) > 0.02,
            "low wind {}",
            share(STATE_LOW_WIND)
        );
        // Faults and maintenance are rare, but 180 turbine-days have some.
        for code in [STATE_FAULT, STATE_MAINTENANCE] {
            assert!(
                (0.0005..0.05).contains(&share(code)),
                "{code}: {}",
                share(code)
            );
        }
        // Runs of many minutes (per turbine-day).
        for turbine_day in state.chunks(MINUTES_PER_DAY) {
            let r = runs(turbine_day);
            let mean = MINUTES_PER_DAY as f64 / r.len() as f64;
            assert!(mean > 20.0, "mean run of {mean} minutes: {r:?}");
        }
    }

    /// The counter rule of the SPEC, written again: per sample, `v − prev`
    /// when `v ≥ prev`, else `v` (a reset).
    fn increments(prev: Option<f64>, values: &[f64]) -> f64 {
        let mut sum = 0.0;
        let mut prev = prev;
        for &v in values {
            if let Some(p) = prev {
                sum += if v >= p { v - p } else { v };
            }
            prev = Some(v);
        }
        sum
    }

    #[test]
    fn the_energy_counter_integrates_power_and_resets() {
        let g = farm(crate::DEFAULT_SEED, 3);
        let days = DayRange::starting(day("2024-01-01"), 10).unwrap();
        let df = g.days(days).unwrap();
        let energy = values(&df, "energy");
        let power = values(&df, "power");
        let per_day = 3 * MINUTES_PER_DAY;
        let mut decreases_within_days = Vec::new();
        for (k, d) in days.iter().enumerate() {
            for t in 0..3 {
                let at = k * per_day + t * MINUTES_PER_DAY;
                let e = &energy[at..at + MINUTES_PER_DAY];
                let p = &power[at..at + MINUTES_PER_DAY];
                let produced: f64 = p.iter().map(|x| x / 60.0).sum();
                // The day's increments, with the previous day's last sample
                // as the first one's predecessor, are the day's energy.
                let prev = (k > 0).then(|| energy[at - per_day + MINUTES_PER_DAY - 1]);
                let inc = increments(prev, e);
                let want = if k > 0 { produced } else { produced - e[0] };
                assert!(
                    (inc - want).abs() <= 1e-9 * want.max(1.0),
                    "{d} T0{}: {inc} != {want}",
                    t + 1
                );
                assert!(e.iter().all(|x| *x >= 0.0));
                for m in 1..MINUTES_PER_DAY {
                    if e[m] < e[m - 1] {
                        decreases_within_days.push((d.to_string(), t + 1, m));
                    }
                }
            }
        }
        // One reset in ten days, on T02, on 2024-01-03, in the afternoon.
        assert_eq!(decreases_within_days.len(), 1, "{decreases_within_days:?}");
        let (d, t, m) = &decreases_within_days[0];
        assert_eq!((d.as_str(), *t), ("2024-01-03", 2));
        assert!((600..1080).contains(m), "reset at minute {m}");
        // The reset day of another seed is the same day.
        let other = farm(5, 2).day(day("2024-01-03"));
        let e = values(&other, "energy");
        let drops = e[MINUTES_PER_DAY..]
            .windows(2)
            .filter(|w| w[1] < w[0])
            .count();
        assert_eq!(drops, 1);
    }

    #[test]
    fn the_suggested_mapping_names_every_code_once() {
        let mut seen = Vec::new();
        for line in STATE_AVAILABILITY_TOML.lines() {
            let line = line.split('#').next().unwrap();
            if let Some((_, list)) = line.split_once("= [") {
                let list = list.split(']').next().unwrap();
                seen.extend(list.split(',').map(|c| c.trim().parse::<u8>().unwrap()));
            }
        }
        seen.sort();
        let codes: Vec<u8> = STATES.iter().map(|(c, _)| *c).collect();
        assert_eq!(seen, codes);
    }

    #[test]
    fn missing_values_of_state_and_energy() {
        let g = crate::Generator::builder()
            .turbines(4)
            .missing_rate(0.1)
            .build()
            .unwrap();
        let df = g.day(day("2024-01-01"));
        for v in ["energy", "state"] {
            let nulls = df.column(v).unwrap().null_count() as f64 / df.height() as f64;
            assert!((0.08..0.12).contains(&nulls), "{v}: {nulls}");
        }
    }
}
