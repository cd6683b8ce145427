//! The plan of one resampling: the input cut into pieces of whole windows
//! (a window cut by a chunk or run boundary gathered into a straddle), each
//! piece computed by the kernel on its own thread, straight into its part of
//! the output columns.

use std::mem::MaybeUninit;

use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;
use rayon::prelude::*;

use super::fresh::{unwritten, written};
use super::kernel::{kernel, Grid, KernelConfig, VarIn};
use super::prepare::Prepared;
use super::spec::Stat;
use super::Resampler;
use crate::report::Quality;

/// Output of the kernel: window starts, their segment (with keys), and one
/// column per (variable, stat), variable-major. NaN marks an absent statistic.
pub(super) struct Windows {
    pub(super) starts: Vec<i64>,
    pub(super) segs: Vec<u32>,
    pub(super) cols: Vec<Vec<f64>>,
    /// Per column: whether it may hold a NaN (an absent value); `false`
    /// spares the output a pass looking for one.
    pub(super) absent: Vec<bool>,
    pub(super) quality: Quality,
}

impl Resampler {
    /// The analog statistics of the prepared input; rows before `from` (in
    /// the input's unit) are context for counters and states only: not
    /// samples, and no window of their own.
    pub(super) fn compute(&self, prep: &Prepared, from: Option<i64>) -> Windows {
        let grid = prep.grid;
        let per_part = rayon::current_num_threads() * 4;
        fn var_in(ca: &Float64Chunked, ci: usize, angle: bool) -> VarIn<'_> {
            let a = ca.downcast_get(ci).expect("columns are cut alike");
            VarIn {
                values: a.values().as_slice(),
                validity: a.validity().filter(|b| b.unset_bits() > 0),
                angle,
            }
        }
        // The input chunks (every column is cut alike).
        let chunks: Vec<(&[i64], Vec<VarIn<'_>>)> = prep
            .ts
            .downcast_iter()
            .enumerate()
            .map(|(ci, a)| {
                let vars = prep
                    .vars
                    .iter()
                    .map(|(_, ca, angle)| var_in(ca, ci, *angle))
                    .collect();
                (a.values().as_slice(), vars)
            })
            .collect();
        // Each series (the whole input, or one key) is a sequence of row
        // ranges in time order: the inside of each range is read in place; a
        // window cut by a range boundary is gathered into a straddle.
        let mut plan: Vec<Planned<'_>> = Vec::new();
        let mut straddles: Vec<Straddle> = Vec::new();
        let mut skipped = 0usize;
        let mut trim = |r| trim_range(r, from, &mut skipped);
        let keyed = prep.keys.is_some();
        if let Some((_, segs, runs)) = &prep.keys {
            for (si, s) in segs.iter().enumerate() {
                let ranges: Vec<Range<'_>> = runs[s.first..s.first + s.len]
                    .iter()
                    .filter_map(|r| {
                        trim(Range {
                            ts: chunks[r.chunk].0,
                            vars: &chunks[r.chunk].1,
                            lo: r.lo,
                            hi: r.hi,
                        })
                    })
                    .collect();
                plan_parts(&ranges, grid, si as u32, &mut plan, &mut straddles);
            }
        } else {
            let ranges: Vec<Range<'_>> = chunks
                .iter()
                .filter(|(ts, _)| !ts.is_empty())
                .filter_map(|(ts, vars)| {
                    trim(Range {
                        ts,
                        vars,
                        lo: 0,
                        hi: ts.len(),
                    })
                })
                .collect();
            plan_parts(&ranges, grid, 0, &mut plan, &mut straddles);
        }
        // Pieces for the threads: the inside of a range is cut on window
        // boundaries (keyed: in proportion to its share of the rows).
        let total_rows = (prep.rows - skipped).max(1);
        let mut pieces: Vec<Piece<'_>> = Vec::with_capacity(plan.len());
        for part in &plan {
            match *part {
                Planned::Interior {
                    ts,
                    vars,
                    lo,
                    hi,
                    seg,
                } => {
                    let parts = if keyed {
                        (per_part * (hi - lo)).div_ceil(total_rows)
                    } else {
                        per_part
                    };
                    for (a, b) in chunk_bounds(&ts[lo..hi], grid, parts) {
                        pieces.push(Piece {
                            ts,
                            vars: vars.to_vec(),
                            lo: lo + a,
                            hi: lo + b,
                            seg,
                        });
                    }
                }
                Planned::Straddle { k, seg } => {
                    let s = &straddles[k];
                    pieces.push(Piece {
                        ts: &s.ts,
                        vars: s
                            .values
                            .iter()
                            .zip(&s.validity)
                            .zip(&prep.vars)
                            .map(|((values, validity), (_, _, angle))| VarIn {
                                values,
                                validity: validity.as_ref(),
                                angle: *angle,
                            })
                            .collect(),
                        lo: 0,
                        hi: s.ts.len(),
                        seg,
                    });
                }
            }
        }
        let cfg = KernelConfig {
            grid,
            label_shift: self.label.offset(grid.every),
            stats: &self.stats,
            want_std: self.stats.contains(&Stat::Std),
            extras: self
                .stats
                .iter()
                .any(|s| matches!(s, Stat::First | Stat::Last | Stat::Median)),
            min_count: self.min_count as usize,
        };
        let n_stats = self.stats.len();
        let n_cols = prep.vars.len() * n_stats;
        // Count the windows of each piece first, so every piece writes straight
        // into its own part of the final columns (no per-piece buffers to concatenate).
        let scans: Vec<(usize, Option<i64>)> = pieces
            .par_iter()
            .map(|p| scan_piece(p.ts, p.lo, p.hi, grid, prep.step))
            .collect();
        let total: usize = scans.iter().map(|s| s.0).sum();
        // Every value of these is written by the kernel (each piece writes
        // every window of its part), so they need not be zeroed first.
        let mut starts: Vec<MaybeUninit<i64>> = unwritten(total);
        let mut segs: Vec<MaybeUninit<u32>> = if keyed { unwritten(total) } else { Vec::new() };
        let mut cols: Vec<Vec<MaybeUninit<f64>>> = (0..n_cols).map(|_| unwritten(total)).collect();
        let mut tasks = Vec::with_capacity(pieces.len());
        {
            let mut starts_rest = &mut starts[..];
            let mut segs_rest = &mut segs[..];
            let mut cols_rest: Vec<&mut [MaybeUninit<f64>]> =
                cols.iter_mut().map(|c| c.as_mut_slice()).collect();
            for (piece, (n, step)) in pieces.iter().zip(&scans) {
                let (head, tail) = std::mem::take(&mut starts_rest).split_at_mut(*n);
                starts_rest = tail;
                let segs = if keyed {
                    let (h, t) = std::mem::take(&mut segs_rest).split_at_mut(*n);
                    segs_rest = t;
                    h
                } else {
                    &mut [][..]
                };
                let mut heads = Vec::with_capacity(n_cols);
                for c in cols_rest.iter_mut() {
                    let (h, t) = std::mem::take(c).split_at_mut(*n);
                    heads.push(h);
                    *c = t;
                }
                tasks.push((piece, *step, head, segs, heads));
            }
        }
        let (quality, absent) = tasks
            .into_par_iter()
            .map(|(p, step, starts, segs, mut cols)| {
                let mut absent = vec![false; n_cols];
                let q = kernel(p, step, &cfg, starts, segs, &mut cols, &mut absent);
                (q, absent)
            })
            .reduce(
                || (Quality::default(), vec![false; n_cols]),
                |(mut qa, mut aa), (qb, ab)| {
                    qa += qb;
                    aa.iter_mut().zip(ab).for_each(|(a, b)| *a |= b);
                    (qa, aa)
                },
            );
        // SAFETY: the pieces' parts cover every column end to end, and the
        // kernel writes every value of its part (or panics).
        let mut out = unsafe {
            Windows {
                starts: written(starts),
                segs: written(segs),
                cols: cols.into_iter().map(|c| written(c)).collect(),
                absent,
                quality,
            }
        };
        out.quality.samples = (prep.rows - skipped) as u64;
        out.quality.windows = total as u64;
        out
    }
}

/// The rows of `r` from `from` on (none: `None`), counting those left out.
fn trim_range<'r>(r: Range<'r>, from: Option<i64>, skipped: &mut usize) -> Option<Range<'r>> {
    let lo = match from {
        Some(f) => r.lo + r.ts[r.lo..r.hi].partition_point(|t| *t < f),
        None => r.lo,
    };
    *skipped += lo - r.lo;
    (lo < r.hi).then_some(Range { lo, ..r })
}

/// Rows `lo..hi` of one input chunk (every column cut alike).
struct Range<'a> {
    ts: &'a [i64],
    vars: &'a [VarIn<'a>],
    lo: usize,
    hi: usize,
}

/// Whole windows of one series (segment `seg`) in output order: the rows
/// `lo..hi` of an input chunk, or a window whose rows lie in several ranges
/// (gathered into the [`Straddle`] `k`).
enum Planned<'a> {
    Interior {
        ts: &'a [i64],
        vars: &'a [VarIn<'a>],
        lo: usize,
        hi: usize,
        seg: u32,
    },
    Straddle {
        k: usize,
        seg: u32,
    },
}

/// The rows of one window whose samples lie in more than one input chunk,
/// copied together (a window is small; the chunks themselves are not copied).
#[derive(Default)]
struct Straddle {
    ts: Vec<i64>,
    values: Vec<Vec<f64>>,
    validity: Vec<Option<Bitmap>>,
}

/// Growing [`Straddle`]: its window, rows and validity bits.
struct Carry {
    window: i64,
    ts: Vec<i64>,
    values: Vec<Vec<f64>>,
    valid: Vec<Vec<bool>>,
}

impl Carry {
    fn new(window: i64, n_vars: usize) -> Self {
        Carry {
            window,
            ts: Vec::new(),
            values: vec![Vec::new(); n_vars],
            valid: vec![Vec::new(); n_vars],
        }
    }

    fn push(&mut self, ts: &[i64], vars: &[VarIn<'_>], lo: usize, hi: usize) {
        self.ts.extend_from_slice(&ts[lo..hi]);
        for (k, v) in vars.iter().enumerate() {
            self.values[k].extend_from_slice(&v.values[lo..hi]);
            self.valid[k].extend((lo..hi).map(|i| v.validity.is_none_or(|b| b.get_bit(i))));
        }
    }

    fn finish(self) -> Straddle {
        Straddle {
            ts: self.ts,
            values: self.values,
            validity: self
                .valid
                .into_iter()
                .map(|bits| {
                    (!bits.iter().all(|b| *b)).then(|| Bitmap::from_iter(bits.iter().copied()))
                })
                .collect(),
        }
    }
}

/// Cuts a series given as non-empty row ranges in time order (the chunks of
/// the input, or the runs of one key) into parts that each hold whole
/// windows, appended to `plan`: the inside of every range is read in place; a
/// window cut by a range boundary becomes a [`Straddle`], appended to
/// `straddles`.
fn plan_parts<'a>(
    ranges: &[Range<'a>],
    grid: Grid,
    seg: u32,
    plan: &mut Vec<Planned<'a>>,
    straddles: &mut Vec<Straddle>,
) {
    let n_vars = ranges.first().map_or(0, |r| r.vars.len());
    let mut carry: Option<Carry> = None;
    for (ri, r) in ranges.iter().enumerate() {
        let (ts, vars) = (r.ts, r.vars);
        let mut lo = r.lo;
        if let Some(c) = carry.as_mut() {
            while lo < r.hi && grid.id(ts[lo]) == c.window {
                lo += 1;
            }
            c.push(ts, vars, r.lo, lo);
            if lo == r.hi {
                continue; // the whole range lies in the carried window
            }
            plan.push(Planned::Straddle {
                k: straddles.len(),
                seg,
            });
            straddles.push(carry.take().expect("carry").finish());
        }
        // A last window that goes on in the next range is carried over.
        let last = grid.id(ts[r.hi - 1]);
        let mut hi = r.hi;
        if ranges
            .get(ri + 1)
            .is_some_and(|next| grid.id(next.ts[next.lo]) == last)
        {
            while hi > lo && grid.id(ts[hi - 1]) == last {
                hi -= 1;
            }
            let mut c = Carry::new(last, n_vars);
            c.push(ts, vars, hi, r.hi);
            carry = Some(c);
        }
        if lo < hi {
            plan.push(Planned::Interior {
                ts,
                vars,
                lo,
                hi,
                seg,
            });
        }
    }
    if let Some(c) = carry {
        plan.push(Planned::Straddle {
            k: straddles.len(),
            seg,
        });
        straddles.push(c.finish());
    }
}

/// Whole windows of sorted rows `lo..hi` over contiguous slices.
pub(super) struct Piece<'a> {
    pub(super) ts: &'a [i64],
    pub(super) vars: Vec<VarIn<'a>>,
    pub(super) lo: usize,
    pub(super) hi: usize,
    /// The segment (key) the rows belong to; 0 without keys.
    pub(super) seg: u32,
}

/// Splits `0..ts.len()` into about `parts` ranges that start on window boundaries.
fn chunk_bounds(ts: &[i64], grid: Grid, parts: usize) -> Vec<(usize, usize)> {
    let n = ts.len();
    if n == 0 {
        return Vec::new();
    }
    // Small inputs are not worth the threads.
    let parts = parts.clamp(1, n.div_ceil(1 << 16));
    let step = n.div_ceil(parts);
    let mut bounds = Vec::with_capacity(parts);
    let mut lo = 0;
    while lo < n {
        let mut hi = (lo + step).min(n);
        if hi < n {
            let w = grid.id(ts[hi - 1]);
            while hi < n && grid.id(ts[hi]) == w {
                hi += 1;
            }
        }
        bounds.push((lo, hi));
        lo = hi;
    }
    bounds
}

/// Rows a block of the regularity check reads before it may stop early.
const SCAN_BLOCK: usize = 4096;

/// The number of windows in the sorted rows `lo..hi`, and their step if the
/// rows are regular: timestamps a constant step apart that divides the window
/// length (then every window but the first and the last holds
/// `every / step` rows, and none is empty in between). `known`: the step
/// between every two rows of the input, if one (then not checked again).
fn scan_piece(
    ts: &[i64],
    lo: usize,
    hi: usize,
    grid: Grid,
    known: Option<i64>,
) -> (usize, Option<i64>) {
    let r = &ts[lo..hi];
    if r.len() >= 2 {
        let step = r[1].wrapping_sub(r[0]);
        // (The bounds keep `start + l * every` of the kernel far from overflow.)
        let in_range = r[0] > i64::MIN / 4 && r[r.len() - 1] < i64::MAX / 4;
        if step > 0 && grid.every % step == 0 && in_range {
            let mut regular = true;
            // Known regular: nothing to read.
            let mut from = if known == Some(step) { r.len() } else { 0 };
            while regular && from + 1 < r.len() {
                let to = (from + SCAN_BLOCK).min(r.len() - 1);
                let bad = r[from + 1..=to]
                    .iter()
                    .zip(&r[from..to])
                    .fold(0i64, |acc, (b, a)| acc | (b.wrapping_sub(*a) ^ step));
                regular = bad == 0;
                from = to;
            }
            if regular {
                let windows = grid.id(r[r.len() - 1]) - grid.id(r[0]) + 1;
                return (windows as usize, Some(step));
            }
        }
    }
    (count_windows(ts, lo, hi, grid), None)
}

/// Number of windows in the sorted rows `lo..hi`.
fn count_windows(ts: &[i64], lo: usize, hi: usize, grid: Grid) -> usize {
    let mut n = 0;
    let mut i = lo;
    while i < hi {
        let last = grid.start(ts[i]).saturating_add(grid.every - 1);
        i += 1;
        while i < hi && ts[i] <= last {
            i += 1;
        }
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_start_on_window_boundaries() {
        let ts: Vec<i64> = (0..1_000_000).map(|i| i * 60).collect();
        let b = chunk_bounds(
            &ts,
            Grid {
                every: 600,
                shift: 0,
            },
            8,
        );
        assert!(b.len() > 1);
        assert_eq!(b[0].0, 0);
        assert_eq!(b.last().unwrap().1, ts.len());
        for w in b.windows(2) {
            assert_eq!(w[0].1, w[1].0);
            assert_eq!(ts[w[1].0] % 600, 0);
        }
    }
}
