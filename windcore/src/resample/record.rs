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
use super::prepare::{permute_nan, Prepared, RecData};
use super::spec::{counter_signals, state_signal, NODATA};
use super::state_codes::{codes, Codes};
use super::Resampler;
use crate::availability::{ratio, Category, SIGNALS};

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

/// The windows of one key and what they gather, in time order.
struct Series {
    /// Window starts, ascending.
    starts: Vec<i64>,
    /// Per counter: per window the sum of the increments (NaN: none) and
    /// the last value (NaN: none).
    counters: Vec<(Vec<f64>, Vec<f64>)>,
    /// Per state channel: (window, code, time in the input's unit), ordered
    /// by window; one entry per (window, code).
    states: Vec<Vec<(u32, u32, i64)>>,
}

/// Buffers one worker reuses from key to key (a fresh large allocation per
/// key would be mapped and faulted in page by page every time).
#[derive(Default)]
struct Scratch {
    /// The rows kept: (time, chunk, row).
    kept: Vec<(i64, u32, u32)>,
    /// One state channel's samples: (time, code).
    samples: Vec<(i64, u32)>,
    /// Per state channel: the time each sample's state holds (from, to, code).
    spans: Vec<Vec<(i64, i64, u32)>>,
}

/// The window of a time, remembered: the rows of a window need one division.
struct Cursor {
    grid: Grid,
    lo: i64,
    hi: i64,
}

impl Cursor {
    fn new(grid: Grid) -> Self {
        Cursor {
            grid,
            lo: i64::MAX,
            hi: i64::MIN,
        }
    }

    /// The start of the window of `t`.
    #[inline]
    fn start(&mut self, t: i64) -> i64 {
        if t < self.lo || t >= self.hi {
            self.lo = self.grid.start(t);
            self.hi = self.lo.saturating_add(self.grid.every);
        }
        self.lo
    }
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
    fn series(&self, runs: &[(usize, usize, usize)], scratch: &mut Scratch) -> Series {
        let Scratch {
            kept,
            samples,
            spans,
        } = scratch;
        // The rows kept (of equal timestamps the last), and the windows of
        // those in bounds.
        kept.clear();
        let mut starts: Vec<i64> = Vec::new();
        let mut cursor = Cursor::new(self.grid);
        for &(c, lo, hi) in runs {
            for (i, &t) in self.ts[c].iter().enumerate().take(hi).skip(lo) {
                if let Some(last) = kept.last_mut() {
                    if last.0 == t {
                        *last = (t, c as u32, i as u32);
                        continue;
                    }
                }
                kept.push((t, c as u32, i as u32));
                if self.in_bounds(t) {
                    let w = cursor.start(t);
                    if starts.last() != Some(&w) {
                        starts.push(w);
                    }
                }
            }
        }
        let kept = &*kept;
        // Each state channel's samples and the end of each one's time.
        spans.resize_with(self.states.len(), Vec::new);
        for (codes, spans) in self.states.iter().zip(spans.iter_mut()) {
            samples.clear();
            samples.extend(kept.iter().filter_map(|&(t, c, i)| {
                let code = codes.rows[c as usize][i as usize];
                (code != u32::MAX).then_some((t, code))
            }));
            spans.clear();
            for (k, &(t, code)) in samples.iter().enumerate() {
                let mut end = t.saturating_add(self.hold);
                if let Some(&(next, _)) = samples.get(k + 1) {
                    end = end.min(next);
                }
                if let Some(to) = self.bounds.to {
                    end = end.min(to);
                }
                let a = self.bounds.from.map_or(t, |f| t.max(f));
                if a < end {
                    spans.push((a, end, code));
                }
            }
        }
        let spans = &spans[..self.states.len()];
        // The windows a state's time reaches beyond those of the rows.
        // (Spans come in time order per channel: a cursor finds their windows.)
        let mut extra: Vec<i64> = Vec::new();
        for spans in spans {
            let mut cur = 0usize;
            for &(a, end, _) in spans {
                let mut w = cursor.start(a);
                while w < end {
                    while cur < starts.len() && starts[cur] < w {
                        cur += 1;
                    }
                    if starts.get(cur) != Some(&w) {
                        extra.push(w);
                    }
                    w += self.grid.every;
                }
            }
        }
        if !extra.is_empty() {
            starts.extend(extra);
            starts.sort_unstable();
            starts.dedup();
        }
        let n = starts.len();
        let counters = self
            .counters
            .iter()
            .map(|chunks| {
                let mut delta = vec![f64::NAN; n];
                let mut last = vec![f64::NAN; n];
                let mut prev: Option<(i64, f64)> = None;
                let mut wi = 0usize;
                for &(t, c, i) in kept {
                    let (values, validity) = chunks[c as usize];
                    let v = values[i as usize];
                    if v.is_nan() || validity.is_some_and(|b| !b.get_bit(i as usize)) {
                        continue;
                    }
                    if self.in_bounds(t) {
                        let w = cursor.start(t);
                        while starts[wi] < w {
                            wi += 1;
                        }
                        if let Some((pt, pv)) = prev {
                            if self.reaches(pt, t) {
                                let inc = if v >= pv { v - pv } else { v };
                                let d = &mut delta[wi];
                                *d = if d.is_nan() { inc } else { *d + inc };
                            }
                        }
                        last[wi] = v;
                    }
                    prev = Some((t, v));
                }
                (delta, last)
            })
            .collect();
        let states = spans
            .iter()
            .map(|spans| {
                let mut out: Vec<(u32, u32, i64)> = Vec::with_capacity(spans.len());
                let mut wi = 0usize;
                for &(a0, end, code) in spans {
                    let mut a = a0;
                    while a < end {
                        let w0 = cursor.start(a);
                        let b = end.min(w0 + self.grid.every);
                        while starts[wi] < w0 {
                            wi += 1;
                        }
                        // Entries of one window follow each other: merge the code's.
                        let mut merged = false;
                        for e in out.iter_mut().rev() {
                            if e.0 != wi as u32 {
                                break;
                            }
                            if e.1 == code {
                                e.2 += b - a;
                                merged = true;
                                break;
                            }
                        }
                        if !merged {
                            out.push((wi as u32, code, b - a));
                        }
                        a = b;
                    }
                }
                out
            })
            .collect();
        Series {
            starts,
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
        // The counters in the order of `ts` (moved along with it, a null as
        // NaN), and each state channel's codes, found in input order and moved.
        let moved: Vec<Option<Float64Chunked>> = prep
            .record
            .iter()
            .map(|r| match (&r.data, &prep.perm) {
                (RecData::Num(ca), Some(p)) if r.counter => Some(permute_nan(ca, p)),
                _ => None,
            })
            .collect();
        let mut counters = Vec::new();
        let mut states = Vec::new();
        let mut counter_names = Vec::new();
        let mut state_names = Vec::new();
        for (r, moved) in prep.record.iter().zip(&moved) {
            match (&r.data, r.counter) {
                (RecData::Num(ca), true) => {
                    counters.push(
                        moved
                            .as_ref()
                            .unwrap_or(ca)
                            .downcast_iter()
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
                    states.push(codes(data, prep.perm.as_ref()));
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
        let per_series: Vec<Series> = series
            .par_iter()
            .map_init(Scratch::default, |scratch, runs| ctx.series(runs, scratch))
            .collect();
        // The states present anywhere, per channel, in code order.
        let present: Vec<Vec<bool>> = ctx
            .states
            .iter()
            .enumerate()
            .map(|(si, c)| {
                let mut p = vec![false; c.names.len()];
                for s in &per_series {
                    for (_, code, _) in &s.states[si] {
                        p[*code as usize] = true;
                    }
                }
                p
            })
            .collect();
        let mut names = Vec::new();
        for c in &counter_names {
            names.extend(counter_signals(c));
        }
        for (si, s) in state_names.iter().enumerate() {
            for (code, name) in ctx.states[si].names.iter().enumerate() {
                if present[si][code] {
                    names.push(state_signal(s, name));
                }
            }
            names.push(state_signal(s, NODATA));
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
        let total: usize = per_series.iter().map(|s| s.starts.len()).sum();
        let n_cols = names.len();
        let every = ctx.grid.every;
        let secs = |units: i64| units as f64 / ctx.per_sec as f64;
        // The column of each (state channel, code) present, and of its nodata.
        let mut col_of: Vec<(Vec<usize>, usize)> = Vec::with_capacity(present.len());
        let mut next = 2 * ctx.counters.len();
        for p in &present {
            let mut cols = vec![usize::MAX; p.len()];
            for (code, is) in p.iter().enumerate() {
                if *is {
                    cols[code] = next;
                    next += 1;
                }
            }
            col_of.push((cols, next));
            next += 1;
        }
        let mut starts = Vec::with_capacity(total);
        let mut segs = Vec::with_capacity(total);
        for (seg, series) in per_series.iter().enumerate() {
            starts.extend(series.starts.iter().map(|s| s + label_shift));
            segs.extend(std::iter::repeat_n(seg as u32, series.starts.len()));
        }
        // Each series writes its own rows of every column, on every core
        // (zeroed memory is mapped lazily: the workers fault it in).
        let mut cols: Vec<Vec<f64>> = (0..n_cols).map(|_| vec![0.0; total]).collect();
        let mut parts: Vec<Vec<&mut [f64]>> = per_series
            .iter()
            .map(|_| Vec::with_capacity(n_cols))
            .collect();
        for col in cols.iter_mut() {
            let mut rest = &mut col[..];
            for (part, series) in parts.iter_mut().zip(&per_series) {
                let (head, tail) = std::mem::take(&mut rest).split_at_mut(series.starts.len());
                part.push(head);
                rest = tail;
            }
        }
        parts
            .into_par_iter()
            .zip(per_series.par_iter())
            .for_each(|(mut out, series)| {
                let n = series.starts.len();
                for c in out.iter_mut() {
                    c.fill(f64::NAN);
                }
                for (ci, (delta, last)) in series.counters.iter().enumerate() {
                    out[2 * ci].copy_from_slice(delta);
                    out[2 * ci + 1].copy_from_slice(last);
                }
                let mut covered = vec![0i64; n];
                for (si, entries) in series.states.iter().enumerate() {
                    covered.fill(0);
                    for &(w, code, units) in entries {
                        out[col_of[si].0[code as usize]][w as usize] = secs(units);
                        covered[w as usize] += units;
                    }
                    let nodata = &mut out[col_of[si].1];
                    for (o, c) in nodata.iter_mut().zip(&covered) {
                        *o = secs(every - c);
                    }
                }
                if let Some((si, cats)) = &avail {
                    let mut by_cat = vec![[0i64; 3]; n];
                    for &(w, code, units) in &series.states[*si] {
                        if let Some(c) = cats[code as usize] {
                            by_cat[w as usize][c as usize] += units;
                        }
                    }
                    let first = n_cols - SIGNALS.len();
                    for (w, cat) in by_cat.iter().enumerate() {
                        let unknown = every - cat.iter().sum::<i64>();
                        out[first][w] = ratio(secs(cat[0]), secs(cat[1])).unwrap_or(f64::NAN);
                        out[first + 1][w] = secs(cat[0]);
                        out[first + 2][w] = secs(cat[1]);
                        out[first + 3][w] = secs(cat[2]);
                        out[first + 4][w] = secs(unknown);
                    }
                }
            });
        RecordWindows {
            starts,
            segs,
            names,
            cols,
        }
    }
}

/// The union of the analog windows and the record windows (both ordered by
/// segment, then start), with the record columns after the analog ones.
pub(super) fn merge(analog: Windows, rec: RecordWindows, keyed: bool) -> Windows {
    let n_a = analog.cols.len();
    let n_r = rec.cols.len();
    if analog.starts.is_empty() || (n_a == 0 && !rec.starts.is_empty()) {
        // Counters and states only (no analog channel: the record's windows
        // hold every window with a row), or no analog window: the record's
        // windows as they are, nothing copied.
        let mut quality = analog.quality;
        quality.windows = rec.starts.len() as u64;
        let mut cols: Vec<Vec<f64>> = (0..n_a).map(|_| vec![f64::NAN; rec.starts.len()]).collect();
        cols.extend(rec.cols);
        return Windows {
            starts: rec.starts,
            segs: if keyed { rec.segs } else { Vec::new() },
            absent: vec![true; cols.len()],
            cols,
            quality,
        };
    }
    let seg_a = |i: usize| if keyed { analog.segs[i] } else { 0 };
    let cap = analog.starts.len().max(rec.starts.len());
    let mut out = Windows {
        starts: Vec::with_capacity(cap),
        segs: Vec::with_capacity(if keyed { cap } else { 0 }),
        cols: (0..n_a + n_r).map(|_| Vec::with_capacity(cap)).collect(),
        absent: vec![true; n_a + n_r],
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
        let Some((seg, start)) = (if take_a { ka } else { kr }) else {
            break; // (unreachable: the loop runs while one side has a window)
        };
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
