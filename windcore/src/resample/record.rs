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
    // States come in runs: a row with its predecessor's value reuses its
    // code, so the map is asked once per run, not once per row.
    match data {
        RecData::Num(ca) => {
            let key = |v: f64| (v + 0.0).to_bits(); // -0.0 is 0
            let mut first: PlHashMap<u64, u32> = PlHashMap::default();
            let mut distinct: Vec<f64> = Vec::new();
            let mut rows: Vec<Vec<u32>> = Vec::with_capacity(ca.chunks().len());
            for a in ca.downcast_iter() {
                let mut out = Vec::with_capacity(a.len());
                let mut last: Option<(u64, u32)> = None;
                for v in a.iter() {
                    let code = match v {
                        Some(&v) if !v.is_nan() => {
                            let k = key(v);
                            match last {
                                Some((lk, lc)) if lk == k => lc,
                                _ => {
                                    let c = *first.entry(k).or_insert_with(|| {
                                        distinct.push(v + 0.0);
                                        (distinct.len() - 1) as u32
                                    });
                                    last = Some((k, c));
                                    c
                                }
                            }
                        }
                        _ => NONE,
                    };
                    out.push(code);
                }
                rows.push(out);
            }
            // Renumber in output order (numbers ascending).
            let mut order: Vec<u32> = (0..distinct.len() as u32).collect();
            order.sort_by(|a, b| distinct[*a as usize].total_cmp(&distinct[*b as usize]));
            renumber(&mut rows, &order);
            Codes {
                names: order
                    .iter()
                    .map(|&i| state_name(distinct[i as usize]))
                    .collect(),
                rows,
            }
        }
        RecData::Text(ca) => {
            let mut first: PlHashMap<&str, u32> = PlHashMap::default();
            let mut distinct: Vec<&str> = Vec::new();
            let mut rows: Vec<Vec<u32>> = Vec::with_capacity(ca.chunks().len());
            for a in ca.downcast_iter() {
                let mut out = Vec::with_capacity(a.len());
                let mut last: Option<(&str, u32)> = None;
                for v in a.iter() {
                    let code = match v {
                        Some(v) => match last {
                            Some((lv, lc)) if lv == v => lc,
                            _ => {
                                let c = *first.entry(v).or_insert_with(|| {
                                    distinct.push(v);
                                    (distinct.len() - 1) as u32
                                });
                                last = Some((v, c));
                                c
                            }
                        },
                        None => NONE,
                    };
                    out.push(code);
                }
                rows.push(out);
            }
            // Renumber in output order (texts in byte order).
            let mut order: Vec<u32> = (0..distinct.len() as u32).collect();
            order.sort_by(|a, b| distinct[*a as usize].cmp(distinct[*b as usize]));
            renumber(&mut rows, &order);
            Codes {
                names: order
                    .iter()
                    .map(|&i| distinct[i as usize].to_string())
                    .collect(),
                rows,
            }
        }
    }
}

/// Replaces each code `c` of `rows` by its rank: `order[rank] == c`.
fn renumber(rows: &mut [Vec<u32>], order: &[u32]) {
    let mut rank = vec![0u32; order.len()];
    for (r, &c) in order.iter().enumerate() {
        rank[c as usize] = r as u32;
    }
    for chunk in rows.iter_mut() {
        for c in chunk.iter_mut() {
            if *c != u32::MAX {
                *c = rank[*c as usize];
            }
        }
    }
}

/// The windows of one key, in time order, and what each gathers.
#[derive(Default)]
struct Series {
    starts: Vec<i64>,
    /// Per counter, per window: the sum of the increments (NaN: none) and
    /// the last value (NaN: none).
    counters: Vec<Vec<(f64, f64)>>,
    /// Per state channel: each window's (code, time) pairs.
    states: Vec<StateTimes>,
}

/// The (code, time in the input's unit) pairs of each window of one state
/// channel, one pair per code: window `w`'s are
/// `entries[offsets[w]..offsets[w + 1]]`.
struct StateTimes {
    offsets: Vec<u32>,
    entries: Vec<(u32, i64)>,
}

impl Series {
    fn len(&self) -> usize {
        self.starts.len()
    }

    fn state(&self, si: usize, w: usize) -> &[(u32, i64)] {
        let s = &self.states[si];
        &s.entries[s.offsets[w] as usize..s.offsets[w + 1] as usize]
    }
}

/// The position of window `w` in `starts` at or after `from` (both sorted;
/// `w` is one of `starts`).
#[inline]
fn seek(starts: &[i64], from: usize, w: i64) -> usize {
    let mut i = from;
    while starts[i] < w {
        i += 1;
    }
    i
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

    /// The windows of one key whose rows are `runs` (chunk, lo, hi), in time
    /// order. Each channel is one pass in time order that appends to its own
    /// list of windows; the key's windows are their union.
    fn series(&self, runs: &[(usize, usize, usize)]) -> Series {
        // The rows kept: of equal timestamps the last.
        let mut rows: Vec<(i64, u32, u32)> = Vec::new();
        for &(c, lo, hi) in runs {
            rows.extend((lo..hi).map(|i| (self.ts[c][i], c as u32, i as u32)));
        }
        let kept: Vec<(i64, u32, u32)> = (0..rows.len())
            .filter(|k| k + 1 == rows.len() || rows[k + 1].0 != rows[*k].0)
            .map(|k| rows[k])
            .collect();
        drop(rows);
        let every = self.grid.every;
        // Every window with a row in bounds.
        let mut all: Vec<i64> = Vec::new();
        for &(t, _, _) in &kept {
            if self.in_bounds(t) {
                let w = self.grid.start(t);
                if all.last() != Some(&w) {
                    all.push(w);
                }
            }
        }
        // Per counter: (window, increments' sum, last value), one per window.
        let mut counter_lists: Vec<Vec<(i64, f64, f64)>> = Vec::with_capacity(self.counters.len());
        for chunks in &self.counters {
            let mut list: Vec<(i64, f64, f64)> = Vec::new();
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
                    let w = self.grid.start(t);
                    match list.last_mut() {
                        Some(last) if last.0 == w => {
                            if let Some(inc) = inc {
                                last.1 = if last.1.is_nan() { inc } else { last.1 + inc };
                            }
                            last.2 = v;
                        }
                        _ => list.push((w, inc.unwrap_or(f64::NAN), v)),
                    }
                }
                prev = Some((t, v));
            }
            counter_lists.push(list);
        }
        // Per state channel: (window, code, time), consecutive equal
        // (window, code) merged.
        let mut state_lists: Vec<Vec<(i64, u32, i64)>> = Vec::with_capacity(self.states.len());
        for codes in &self.states {
            let mut list: Vec<(i64, u32, i64)> = Vec::new();
            let mut samples = kept.iter().filter_map(|&(t, c, i)| {
                let code = codes.rows[c as usize][i as usize];
                (code != u32::MAX).then_some((t, code))
            });
            let mut next = samples.next();
            while let Some((t, code)) = next {
                next = samples.next();
                let mut end = t.saturating_add(self.hold);
                if let Some((n, _)) = next {
                    end = end.min(n);
                }
                if let Some(to) = self.bounds.to {
                    end = end.min(to);
                }
                let mut a = self.bounds.from.map_or(t, |f| t.max(f));
                while a < end {
                    let w0 = self.grid.start(a);
                    let b = end.min(w0 + every);
                    match list.last_mut() {
                        Some(last) if last.0 == w0 && last.1 == code => last.2 += b - a,
                        _ => list.push((w0, code, b - a)),
                    }
                    a = b;
                }
            }
            state_lists.push(list);
        }
        // The key's windows: the union of every list's.
        let rows_only =
            counter_lists.iter().all(|l| l.is_empty()) && state_lists.iter().all(|l| l.is_empty());
        if !rows_only {
            for l in &counter_lists {
                all.extend(l.iter().map(|e| e.0));
            }
            for l in &state_lists {
                all.extend(l.iter().map(|e| e.0));
            }
            all.sort_unstable();
            all.dedup();
        }
        let n = all.len();
        let counters = counter_lists
            .into_iter()
            .map(|list| {
                let mut col = vec![(f64::NAN, f64::NAN); n];
                let mut i = 0;
                for (w, delta, last) in list {
                    i = seek(&all, i, w);
                    col[i] = (delta, last);
                }
                col
            })
            .collect();
        let states = state_lists
            .into_iter()
            .map(|list| {
                let mut offsets = Vec::with_capacity(n + 1);
                let mut entries: Vec<(u32, i64)> = Vec::with_capacity(list.len());
                offsets.push(0u32);
                let mut e = 0;
                for &w in &all {
                    let begin = entries.len();
                    while e < list.len() && list[e].0 == w {
                        let (_, code, units) = list[e];
                        // A code may come back within a window (1, 2, 1).
                        match entries[begin..].iter_mut().find(|(c, _)| *c == code) {
                            Some(x) => x.1 += units,
                            None => entries.push((code, units)),
                        }
                        e += 1;
                    }
                    offsets.push(entries.len() as u32);
                }
                StateTimes { offsets, entries }
            })
            .collect();
        Series {
            starts: all,
            counters,
            states,
        }
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
        let per_series: Vec<Series> = series.par_iter().map(|runs| ctx.series(runs)).collect();
        // The states present anywhere, per channel, in code order.
        let present: Vec<Vec<bool>> = ctx
            .states
            .iter()
            .enumerate()
            .map(|(si, c)| {
                let mut p = vec![false; c.names.len()];
                for series in &per_series {
                    for (code, _) in &series.states[si].entries {
                        p[*code as usize] = true;
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
        let total: usize = per_series.iter().map(Series::len).sum();
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
        for (seg, series) in per_series.iter().enumerate() {
            for (w, start) in series.starts.iter().enumerate() {
                out.starts.push(start + label_shift);
                out.segs.push(seg as u32);
                let mut col = 0;
                let mut put = |v: f64| {
                    out.cols[col].push(v);
                    col += 1;
                };
                for counter in &series.counters {
                    let (delta, last) = counter[w];
                    put(delta);
                    put(last);
                }
                for (si, present) in present.iter().enumerate() {
                    let slot = series.state(si, w);
                    for (code, p) in present.iter().enumerate() {
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
                    for (code, units) in series.state(*si, w) {
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
