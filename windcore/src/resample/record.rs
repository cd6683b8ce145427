//! Counters and states: the channels whose statistics depend on the order of
//! the samples and on the sample before a window (and before a day).
//!
//! Per key, the valid samples in time order (of equal timestamps the last
//! row, as everywhere). A counter's increment is `v - v_prev`, or `v` after a
//! decrease (a reset), and belongs to the window of the later sample; the
//! predecessor of a day's first sample may lie at most one day (24 h) before
//! the day. A state holds from its sample's time until the next sample, for
//! at most the hold; the seconds are counted in the input's time unit
//! (integers), so per window the states and `nodata` add up to the window
//! length exactly.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use rayon::prelude::*;

use super::kernel::Grid;
use super::plan::Windows;
use super::prepare::{Prepared, RecData};
use super::Resampler;
use crate::availability::{ratio, state_name, Category, SIGNALS};

/// The output bounds of a resampling, in the input's unit: rows before
/// `from` are context only (no window, not samples), and a state's time is
/// clipped at `to` (the end of the day).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Bounds {
    pub(super) from: Option<i64>,
    pub(super) to: Option<i64>,
}

impl Bounds {
    /// The bounds of a range of instants, in `unit`.
    pub(super) fn of_range(range: crate::day::TimeRange, unit: TimeUnit) -> Self {
        let conv = |us: i64| match unit {
            TimeUnit::Milliseconds => us.div_euclid(1_000),
            TimeUnit::Microseconds => us,
            TimeUnit::Nanoseconds => us.saturating_mul(1_000),
        };
        Bounds {
            from: Some(conv(range.start_micros())),
            to: Some(conv(range.end_micros())),
        }
    }
}

/// The distinct codes of one state channel, in output order (numbers
/// ascending, texts in byte order), and each row's code (`u32::MAX`: not a
/// sample), per input chunk.
struct Codes {
    names: Vec<String>,
    rows: Vec<Vec<u32>>,
}

fn codes(data: &RecData) -> Codes {
    const NONE: u32 = u32::MAX;
    match data {
        RecData::Num(ca) => {
            let mut distinct: Vec<f64> = Vec::new();
            let mut seen: HashMap<u64, ()> = HashMap::new();
            for v in ca.iter().flatten() {
                let v = v + 0.0; // -0.0 is 0
                if !v.is_nan() && seen.insert(v.to_bits(), ()).is_none() {
                    distinct.push(v);
                }
            }
            distinct.sort_by(f64::total_cmp);
            let id: HashMap<u64, u32> = distinct
                .iter()
                .enumerate()
                .map(|(i, v)| (v.to_bits(), i as u32))
                .collect();
            let rows = ca
                .downcast_iter()
                .map(|a| {
                    a.iter()
                        .map(|v| match v {
                            Some(v) if !v.is_nan() => id[&(v + 0.0).to_bits()],
                            _ => NONE,
                        })
                        .collect()
                })
                .collect();
            Codes {
                names: distinct.into_iter().map(state_name).collect(),
                rows,
            }
        }
        RecData::Text(ca) => {
            let mut distinct: Vec<&str> = ca.iter().flatten().collect();
            distinct.sort_unstable();
            distinct.dedup();
            let id: HashMap<&str, u32> = distinct
                .iter()
                .enumerate()
                .map(|(i, v)| (*v, i as u32))
                .collect();
            let rows = ca
                .downcast_iter()
                .map(|a| a.iter().map(|v| v.map_or(NONE, |v| id[v])).collect())
                .collect();
            Codes {
                names: distinct.into_iter().map(str::to_string).collect(),
                rows,
            }
        }
    }
}

/// What one window of one key gathers.
#[derive(Clone, Default)]
struct Win {
    /// Per counter: the sum of the increments (NaN: none) and the last value.
    counters: Vec<(f64, f64)>,
    /// Per state channel: (code, time in the input's unit).
    states: Vec<Vec<(u32, i64)>>,
}

/// The settings of one pass, shared by every key.
struct Ctx<'a> {
    grid: Grid,
    bounds: Bounds,
    hold: i64,
    day: i64,
    per_sec: i64,
    ts: Vec<&'a [i64]>,
    /// Per counter: the values and validity of each chunk.
    counters: Vec<Vec<(&'a [f64], Option<&'a polars_arrow::bitmap::Bitmap>)>>,
    states: Vec<Codes>,
    zone: crate::zone::Zone,
}

impl Ctx<'_> {
    /// The start of the (local) day that holds `t`, in the input's unit.
    fn day_start(&self, t: i64) -> i64 {
        if self.zone.is_utc() {
            return t.div_euclid(self.day) * self.day;
        }
        let secs = t.div_euclid(self.per_sec);
        let Some(at) = chrono::DateTime::from_timestamp(secs, 0) else {
            return t.div_euclid(self.day) * self.day;
        };
        let start = self.zone.day_range(self.zone.day_of(at)).start;
        start.timestamp() * self.per_sec
    }

    /// Whether a counter sample at `prev` may be the predecessor of one at
    /// `t`: at most one day before the start of `t`'s day.
    fn reaches(&self, prev: i64, t: i64) -> bool {
        t - prev <= self.day || prev >= self.day_start(t) - self.day
    }

    fn in_bounds(&self, t: i64) -> bool {
        self.bounds.from.is_none_or(|f| t >= f) && self.bounds.to.is_none_or(|e| t < e)
    }

    /// The windows of one key whose rows are `runs` (chunk, lo, hi), in time order.
    fn series(&self, runs: &[(usize, usize, usize)]) -> BTreeMap<i64, Win> {
        let blank = Win {
            counters: vec![(f64::NAN, f64::NAN); self.counters.len()],
            states: vec![Vec::new(); self.states.len()],
        };
        // The rows kept: of equal timestamps the last.
        let mut rows: Vec<(i64, u32, u32)> = Vec::new();
        for &(c, lo, hi) in runs {
            rows.extend((lo..hi).map(|i| (self.ts[c][i], c as u32, i as u32)));
        }
        let kept: Vec<(i64, u32, u32)> = (0..rows.len())
            .filter(|k| k + 1 == rows.len() || rows[k + 1].0 != rows[*k].0)
            .map(|k| rows[k])
            .collect();
        let mut wins: BTreeMap<i64, Win> = BTreeMap::new();
        for &(t, _, _) in &kept {
            if self.in_bounds(t) {
                wins.entry(self.grid.start(t))
                    .or_insert_with(|| blank.clone());
            }
        }
        for (ci, chunks) in self.counters.iter().enumerate() {
            let mut prev: Option<(i64, f64)> = None;
            for &(t, c, i) in &kept {
                let (values, validity) = chunks[c as usize];
                let v = values[i as usize];
                if v.is_nan() || validity.is_some_and(|b| !b.get_bit(i as usize)) {
                    continue;
                }
                if self.in_bounds(t) {
                    let inc = prev.filter(|(pt, _)| self.reaches(*pt, t)).map(|(_, pv)| {
                        if v >= pv {
                            v - pv
                        } else {
                            v
                        }
                    });
                    let w = wins
                        .entry(self.grid.start(t))
                        .or_insert_with(|| blank.clone());
                    let slot = &mut w.counters[ci];
                    if let Some(inc) = inc {
                        slot.0 = if slot.0.is_nan() { inc } else { slot.0 + inc };
                    }
                    slot.1 = v;
                }
                prev = Some((t, v));
            }
        }
        for (si, codes) in self.states.iter().enumerate() {
            let samples: Vec<(i64, u32)> = kept
                .iter()
                .filter_map(|&(t, c, i)| {
                    let code = codes.rows[c as usize][i as usize];
                    (code != u32::MAX).then_some((t, code))
                })
                .collect();
            for (k, &(t, code)) in samples.iter().enumerate() {
                let mut end = t.saturating_add(self.hold);
                if let Some(&(next, _)) = samples.get(k + 1) {
                    end = end.min(next);
                }
                if let Some(to) = self.bounds.to {
                    end = end.min(to);
                }
                let mut a = self.bounds.from.map_or(t, |f| t.max(f));
                while a < end {
                    let w0 = self.grid.start(a);
                    let b = end.min(w0 + self.grid.every);
                    let w = wins.entry(w0).or_insert_with(|| blank.clone());
                    let slot = &mut w.states[si];
                    match slot.iter_mut().find(|(c, _)| *c == code) {
                        Some(s) => s.1 += b - a,
                        None => slot.push((code, b - a)),
                    }
                    a = b;
                }
            }
        }
        wins
    }
}

/// The counter and state statistics of every key: window starts (labels),
/// segments, signal names and columns (NaN: absent).
pub(super) struct RecordWindows {
    pub(super) starts: Vec<i64>,
    pub(super) segs: Vec<u32>,
    pub(super) names: Vec<String>,
    pub(super) cols: Vec<Vec<f64>>,
}

impl Resampler {
    /// The counter and state statistics of the prepared input within `bounds`.
    pub(super) fn record(
        &self,
        prep: &Prepared,
        bounds: Bounds,
        label_shift: i64,
    ) -> RecordWindows {
        let ts: Vec<&[i64]> = prep
            .ts
            .downcast_iter()
            .map(|a| a.values().as_slice())
            .collect();
        let mut counters = Vec::new();
        let mut states = Vec::new();
        let mut counter_names = Vec::new();
        let mut state_names = Vec::new();
        for r in &prep.record {
            match (&r.data, r.counter) {
                (RecData::Num(ca), true) => {
                    counters.push(
                        ca.downcast_iter()
                            .map(|a| {
                                (
                                    a.values().as_slice(),
                                    a.validity().filter(|b| b.unset_bits() > 0),
                                )
                            })
                            .collect::<Vec<_>>(),
                    );
                    counter_names.push(r.name.clone());
                }
                (data, _) => {
                    states.push(codes(data));
                    state_names.push(r.name.clone());
                }
            }
        }
        let ctx = Ctx {
            grid: prep.grid,
            bounds,
            hold: self.state_hold_secs * prep.per_sec,
            day: 86_400 * prep.per_sec,
            per_sec: prep.per_sec,
            ts,
            counters,
            states,
            zone: self.zone,
        };
        let series: Vec<Vec<(usize, usize, usize)>> = match &prep.keys {
            Some((_, segs, runs)) => segs
                .iter()
                .map(|s| {
                    runs[s.first..s.first + s.len]
                        .iter()
                        .map(|r| (r.chunk, r.lo, r.hi))
                        .collect()
                })
                .collect(),
            None => vec![ctx
                .ts
                .iter()
                .enumerate()
                .map(|(c, t)| (c, 0, t.len()))
                .collect()],
        };
        let per_series: Vec<BTreeMap<i64, Win>> =
            series.par_iter().map(|runs| ctx.series(runs)).collect();
        // The states present anywhere, per channel, in code order.
        let present: Vec<Vec<bool>> = ctx
            .states
            .iter()
            .enumerate()
            .map(|(si, c)| {
                let mut p = vec![false; c.names.len()];
                for wins in &per_series {
                    for w in wins.values() {
                        for (code, _) in &w.states[si] {
                            p[*code as usize] = true;
                        }
                    }
                }
                p
            })
            .collect();
        let mut names = Vec::new();
        for c in &counter_names {
            names.push(format!("{c}_delta"));
            names.push(format!("{c}_last"));
        }
        for (si, s) in state_names.iter().enumerate() {
            for (code, name) in ctx.states[si].names.iter().enumerate() {
                if present[si][code] {
                    names.push(format!("{s}_seconds_{name}"));
                }
            }
            names.push(format!("{s}_seconds_nodata"));
        }
        // The availability channel and each of its codes' category.
        let avail: Option<(usize, Vec<Option<Category>>)> =
            self.availability.as_ref().and_then(|m| {
                let si = state_names
                    .iter()
                    .position(|s| Some(s.as_str()) == m.channel())?;
                Some((
                    si,
                    ctx.states[si].names.iter().map(|n| m.category(n)).collect(),
                ))
            });
        if avail.is_some() {
            names.extend(SIGNALS.iter().map(|s| s.to_string()));
        }
        let total: usize = per_series.iter().map(|w| w.len()).sum();
        let mut out = RecordWindows {
            starts: Vec::with_capacity(total),
            segs: Vec::with_capacity(total),
            names,
            cols: Vec::new(),
        };
        let n_cols = out.names.len();
        out.cols = (0..n_cols).map(|_| Vec::with_capacity(total)).collect();
        let every = ctx.grid.every;
        let secs = |units: i64| units as f64 / ctx.per_sec as f64;
        for (seg, wins) in per_series.iter().enumerate() {
            for (start, w) in wins {
                out.starts.push(start + label_shift);
                out.segs.push(seg as u32);
                let mut col = 0;
                let mut put = |v: f64| {
                    out.cols[col].push(v);
                    col += 1;
                };
                for (delta, last) in &w.counters {
                    put(*delta);
                    put(*last);
                }
                for (si, slot) in w.states.iter().enumerate() {
                    for (code, p) in present[si].iter().enumerate() {
                        if *p {
                            let units = slot.iter().find(|(c, _)| *c as usize == code);
                            put(units.map_or(f64::NAN, |(_, u)| secs(*u)));
                        }
                    }
                    let covered: i64 = slot.iter().map(|(_, u)| u).sum();
                    put(secs(every - covered));
                }
                if let Some((si, cats)) = &avail {
                    let mut by_cat = [0i64; 3];
                    for (code, units) in &w.states[*si] {
                        if let Some(c) = cats[*code as usize] {
                            by_cat[c as usize] += units;
                        }
                    }
                    let unknown = every - by_cat.iter().sum::<i64>();
                    put(ratio(secs(by_cat[0]), secs(by_cat[1])).unwrap_or(f64::NAN));
                    for u in by_cat {
                        put(secs(u));
                    }
                    put(secs(unknown));
                }
            }
        }
        out
    }
}

/// The union of the analog windows and the record windows (both ordered by
/// segment, then start), with the record columns after the analog ones.
pub(super) fn merge(analog: Windows, rec: RecordWindows, keyed: bool) -> Windows {
    let n_a = analog.cols.len();
    let n_r = rec.cols.len();
    let seg_a = |i: usize| if keyed { analog.segs[i] } else { 0 };
    let mut out = Windows {
        starts: Vec::new(),
        segs: Vec::new(),
        cols: vec![Vec::new(); n_a + n_r],
        quality: analog.quality,
    };
    let (mut i, mut j) = (0, 0);
    while i < analog.starts.len() || j < rec.starts.len() {
        let ka = (i < analog.starts.len()).then(|| (seg_a(i), analog.starts[i]));
        let kr = (j < rec.starts.len()).then(|| (rec.segs[j], rec.starts[j]));
        let (take_a, take_r) = match (ka, kr) {
            (Some(a), Some(r)) => (a <= r, r <= a),
            (Some(_), None) => (true, false),
            _ => (false, true),
        };
        let (seg, start) = if take_a { ka } else { kr }.expect("one side has a window");
        out.starts.push(start);
        if keyed {
            out.segs.push(seg);
        }
        for c in 0..n_a {
            let v = if take_a { analog.cols[c][i] } else { f64::NAN };
            out.cols[c].push(v);
        }
        for c in 0..n_r {
            let v = if take_r { rec.cols[c][j] } else { f64::NAN };
            out.cols[n_a + c].push(v);
        }
        i += take_a as usize;
        j += take_r as usize;
    }
    out.quality.windows = out.starts.len() as u64;
    out
}
