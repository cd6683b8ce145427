//! The fused single pass: every statistic of every variable of a piece of
//! whole windows, in one loop over its rows.

use std::mem::MaybeUninit;

use polars_arrow::bitmap::Bitmap;

use super::circular::{circular, circular_lanes};
use super::linear::{linear, linear_lanes, LONG};
use super::plan::Piece;
use super::spec::Stat;
use crate::report::Quality;

#[derive(Clone, Copy)]
pub(super) struct VarIn<'a> {
    pub(super) values: &'a [f64],
    pub(super) validity: Option<&'a Bitmap>,
    pub(super) angle: bool,
}

/// Where windows start: at `k * every - shift` (in the input's time unit),
/// `shift` lining windows up with a local clock whose UTC offset is not a
/// multiple of the window length.
#[derive(Clone, Copy, Debug)]
pub(super) struct Grid {
    pub(super) every: i64,
    pub(super) shift: i64,
}

impl Grid {
    /// The window number of `t`.
    #[inline]
    pub(super) fn id(self, t: i64) -> i64 {
        (t + self.shift).div_euclid(self.every)
    }

    /// The start of the window of `t`.
    #[inline]
    pub(super) fn start(self, t: i64) -> i64 {
        self.id(t) * self.every - self.shift
    }
}

/// What the kernel computes, shared by every piece.
pub(super) struct KernelConfig<'a> {
    pub(super) grid: Grid,
    /// Added to each window start for its label: 0, or `every` for end labels.
    pub(super) label_shift: i64,
    pub(super) stats: &'a [Stat],
    pub(super) want_std: bool,
    /// Whether first, last or median are asked for (they take a pass of
    /// their own over each window, see [`extras`]).
    pub(super) extras: bool,
    pub(super) min_count: usize,
}

/// The fused single pass over the sorted rows `lo..hi` of a piece (which
/// start and end on window boundaries): every statistic of every variable,
/// one window at a time, written to `starts[k]`, `segs[k]` (keyed input) and
/// `cols[variable * stats + stat][k]` for the k-th window of the piece;
/// `absent[c]` is set where column `c` got a NaN (an absent value).
/// Returns the quality counters of the piece.
///
/// Every value of `starts`, `segs` (unless empty) and `cols` is written:
/// their length is the piece's number of windows, and every window writes
/// its start, its segment and each (variable, stat) column. A piece with
/// another number of windows than their length panics (a bug, not an input
/// the kernel can meet: the plan counted the windows on the same rows).
pub(super) fn kernel(
    p: &Piece<'_>,
    step: Option<i64>,
    cfg: &KernelConfig<'_>,
    starts: &mut [MaybeUninit<i64>],
    segs: &mut [MaybeUninit<u32>],
    cols: &mut [&mut [MaybeUninit<f64>]],
    absent: &mut [bool],
) -> Quality {
    assert_eq!(
        cols.len(),
        p.vars.len() * cfg.stats.len(),
        "one column per variable and statistic"
    );
    let ts = p.ts;
    let n_stats = cfg.stats.len();
    let mut q = Quality::default();
    let mut buf: Vec<f64> = Vec::new();
    // Room for a block of angles and their sines and cosines (see
    // `circular_lanes`).
    let mut scratch: Vec<f64> = Vec::new();
    let mut i = p.lo;
    let mut k = 0;
    // The start of window k - 1 (its label less the label shift).
    let mut prev_start = 0;
    // Regular rows (see `scan_piece`): after the first window, whole windows
    // of `w` rows each follow each other, LANES at a time: their bounds and
    // starts need no search, and the statistics of the LANES windows are
    // computed side by side (each window summed as `linear` and `circular`
    // sum it, so the numbers are theirs).
    let w = if cfg.extras {
        0
    } else {
        step.map_or(0, |s| (cfg.grid.every / s) as usize)
    };
    while i < p.hi {
        if w > 0 && k > 0 && i + LANES * w <= p.hi {
            // Regular rows leave no window out: the windows of the blocks
            // below follow the last (their starts need no read of the
            // timestamps, nor a division). Long windows: every whole block
            // that fits, each variable's blocks one after another (one
            // stream of memory at a time); short ones a block at a time,
            // every variable while its rows are at hand (measured faster for
            // each).
            let blocks = if w >= LONG {
                (p.hi - i) / (LANES * w)
            } else {
                1
            };
            let start = prev_start + cfg.grid.every;
            debug_assert_eq!(start, cfg.grid.start(ts[i]));
            for b in 0..blocks * LANES {
                starts[k + b].write(start + b as i64 * cfg.grid.every + cfg.label_shift);
                if !segs.is_empty() {
                    segs[k + b].write(p.seg);
                }
            }
            prev_start = start + (blocks * LANES) as i64 * cfg.grid.every - cfg.grid.every;
            for (vi, var) in p.vars.iter().enumerate() {
                for b in 0..blocks {
                    let (i, k) = (i + b * LANES * w, k + b * LANES);
                    let block = &var.values[i..i + LANES * w];
                    let accs: [Acc; LANES] = match (var.validity, var.angle) {
                        (None, false) => linear_lanes::<LANES, false>(block, w, cfg.want_std),
                        // Most blocks of a column with a few nulls have none.
                        (Some(b), false) if all_valid(b, i, LANES * w) => {
                            linear_lanes::<LANES, false>(block, w, cfg.want_std)
                        }
                        (None, true) => circular_lanes(block, w, cfg.want_std, &mut scratch),
                        (Some(b), true) if all_valid(b, i, LANES * w) => {
                            circular_lanes(block, w, cfg.want_std, &mut scratch)
                        }
                        // The block with NaN for its nulls (as `accumulate` hands
                        // each window over): a column missing 1 % of its samples
                        // has a null in a third of its blocks.
                        (Some(b), angle) => {
                            let valid = |r| {
                                // SAFETY: the validity bitmap has one bit per row of `values`.
                                unsafe { b.get_bit_unchecked(r) }
                            };
                            let block = masked(var.values, i, i + LANES * w, valid, &mut buf);
                            if angle {
                                circular_lanes(block, w, cfg.want_std, &mut scratch)
                            } else {
                                linear_lanes::<LANES, true>(block, w, cfg.want_std)
                            }
                        }
                    };
                    let base = vi * n_stats;
                    for (l, acc) in accs.iter().enumerate() {
                        q.missing += (w - acc.n) as u64;
                        let enough = acc.n >= cfg.min_count;
                        if !enough {
                            q.sparse_windows += 1;
                        }
                        for (si, st) in cfg.stats.iter().enumerate() {
                            let v = stat_value(*st, acc, enough);
                            cols[base + si][k + l].write(v);
                            absent[base + si] |= v.is_nan();
                        }
                    }
                }
            }
            k += blocks * LANES;
            i += blocks * LANES * w;
            continue;
        }
        let start = cfg.grid.start(ts[i]);
        let last = start.saturating_add(cfg.grid.every - 1);
        let mut j = i + 1;
        while j < p.hi && ts[j] <= last {
            j += 1;
        }
        let dups = ts[i..j].windows(2).filter(|w| w[0] == w[1]).count();
        let kept = (j - i - dups) as u64;
        q.duplicates += dups as u64;
        starts[k].write(start + cfg.label_shift);
        if !segs.is_empty() {
            segs[k].write(p.seg);
        }
        prev_start = start;
        for (vi, var) in p.vars.iter().enumerate() {
            let mut acc = accumulate(ts, var, i, j, dups > 0, cfg.want_std, &mut buf);
            if cfg.extras {
                extras(ts, var, i, j, dups > 0, &mut acc, &mut buf);
            }
            q.missing += kept - acc.n as u64;
            let enough = acc.n >= cfg.min_count;
            if !enough {
                q.sparse_windows += 1;
            }
            let base = vi * n_stats;
            for (si, st) in cfg.stats.iter().enumerate() {
                let v = stat_value(*st, &acc, enough);
                cols[base + si][k].write(v);
                absent[base + si] |= v.is_nan();
            }
        }
        k += 1;
        i = j;
    }
    // Every window of the output slices is written (see above).
    assert_eq!(k, starts.len(), "the windows the plan counted");
    assert!(segs.is_empty() || segs.len() == k);
    assert!(cols.iter().all(|c| c.len() == k));
    q
}

/// Whether the rows `a..a + n` of a validity bitmap are all set, read 56
/// bits at a time.
#[inline]
fn all_valid(b: &Bitmap, a: usize, n: usize) -> bool {
    let (bytes, offset, _) = b.as_slice();
    let mut bit = offset + a;
    let mut left = n;
    while left > 0 {
        let take = left.min(56);
        let byte = bit / 8;
        let mut word = [0u8; 8];
        let avail = (bytes.len() - byte).min(8);
        word[..avail].copy_from_slice(&bytes[byte..byte + avail]);
        let mask = (1u64 << take) - 1;
        if (u64::from_le_bytes(word) >> (bit % 8)) & mask != mask {
            return false;
        }
        bit += take;
        left -= take;
    }
    true
}

/// Windows the regular path computes side by side.
const LANES: usize = 4;

/// The output value of statistic `st` of a window; NaN where absent.
#[inline]
fn stat_value(st: Stat, acc: &Acc, enough: bool) -> f64 {
    match st {
        Stat::Count if acc.n > 0 => acc.n as f64,
        Stat::Mean if enough => acc.mean,
        Stat::Min if enough => acc.min,
        Stat::Max if enough => acc.max,
        Stat::Std if enough => acc.std,
        Stat::First if enough => acc.first,
        Stat::Last if enough => acc.last,
        Stat::Sum if enough => acc.sum,
        Stat::Median if enough => acc.median,
        _ => f64::NAN,
    }
}

/// The statistics of one window of one variable; NaN where undefined.
#[derive(Clone, Copy)]
pub(super) struct Acc {
    pub(super) n: usize,
    pub(super) mean: f64,
    pub(super) min: f64,
    pub(super) max: f64,
    pub(super) std: f64,
    /// The plain sum (NaN for angles).
    pub(super) sum: f64,
    /// First, last and median: set by [`extras`] only (NaN otherwise).
    pub(super) first: f64,
    pub(super) last: f64,
    pub(super) median: f64,
}

impl Acc {
    pub(super) fn empty(n: usize) -> Self {
        Acc {
            n,
            mean: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
            std: f64::NAN,
            sum: f64::NAN,
            first: f64::NAN,
            last: f64::NAN,
            median: f64::NAN,
        }
    }

    /// The moments of a window; first, last and median not (yet) known.
    pub(super) fn moments(n: usize, mean: f64, min: f64, max: f64, std: f64, sum: f64) -> Self {
        Acc {
            n,
            mean,
            min,
            max,
            std,
            sum,
            first: f64::NAN,
            last: f64::NAN,
            median: f64::NAN,
        }
    }
}

/// First, last and (linear variables) median of rows `i..j` of one
/// variable, into `acc`: a pass of their own, taken only when asked for.
/// The rows left out are those [`accumulate`] leaves out (null, NaN, a
/// duplicate timestamp followed by a later row of the same instant).
fn extras(
    ts: &[i64],
    var: &VarIn<'_>,
    i: usize,
    j: usize,
    has_dup: bool,
    acc: &mut Acc,
    buf: &mut Vec<f64>,
) {
    let get = |k: usize| {
        let dropped = has_dup && k + 1 < j && ts[k + 1] == ts[k];
        let valid = var.validity.is_none_or(|b| b.get_bit(k));
        let x = var.values[k];
        if dropped || !valid || x.is_nan() {
            None
        } else {
            Some(x)
        }
    };
    acc.first = (i..j).find_map(get).unwrap_or(f64::NAN);
    acc.last = (i..j).rev().find_map(get).unwrap_or(f64::NAN);
    if var.angle {
        return;
    }
    buf.clear();
    buf.extend((i..j).filter_map(get));
    acc.median = median(buf);
}

/// The median of `xs` (no NaN), reordering it; NaN when empty.
fn median(xs: &mut [f64]) -> f64 {
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    let (lo, mid, _) = xs.select_nth_unstable_by(n / 2, f64::total_cmp);
    let mid = *mid;
    if n % 2 == 1 {
        return mid;
    }
    let below = lo.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // (a + b) / 2 like numpy; the same value twice is that value.
    if below == mid {
        mid
    } else {
        below + (mid - below) / 2.0
    }
}

/// Rows `i..j` of one variable: picks the loop for the layout (dense, with
/// nulls, with duplicate timestamps) and the kind (linear or angle).
#[inline]
fn accumulate(
    ts: &[i64],
    var: &VarIn<'_>,
    i: usize,
    j: usize,
    has_dup: bool,
    want_std: bool,
    buf: &mut Vec<f64>,
) -> Acc {
    let values = var.values;
    let xs = match (has_dup, var.validity) {
        (false, None) => &values[i..j],
        (false, Some(b)) if all_valid(b, i, j - i) => &values[i..j],
        (false, Some(b)) => {
            let valid = |k| {
                // SAFETY: the validity bitmap has one bit per row of `values`.
                unsafe { b.get_bit_unchecked(k) }
            };
            masked(values, i, j, valid, buf)
        }
        // NaN for a row that is not a sample: a null, or a duplicate
        // timestamp followed by a later row of the same instant.
        (true, validity) => {
            let valid = |k: usize| {
                let dropped = k + 1 < j && ts[k + 1] == ts[k];
                !dropped && validity.is_none_or(|b| b.get_bit(k))
            };
            masked(values, i, j, valid, buf)
        }
    };
    if var.angle {
        circular(xs, want_std)
    } else {
        linear(xs, want_std)
    }
}

/// `values[i..j]` with NaN where `valid(r)` is false, into `buf`.
#[inline]
fn masked<'b>(
    values: &[f64],
    i: usize,
    j: usize,
    valid: impl Fn(usize) -> bool,
    buf: &'b mut Vec<f64>,
) -> &'b [f64] {
    buf.clear();
    buf.extend((i..j).map(|r| if valid(r) { values[r] } else { f64::NAN }));
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_runs() {
        let bits: Vec<bool> = (0..300).map(|i| i != 77 && i != 200).collect();
        let b = Bitmap::from_iter(bits.iter().copied());
        for offset in [0, 3, 13] {
            let s = b.clone().sliced(offset, 300 - offset);
            for a in 0..(300 - offset - 130) {
                for n in [1, 7, 40, 56, 57, 120, 130] {
                    let want = (a..a + n).all(|i| bits[offset + i]);
                    assert_eq!(all_valid(&s, a, n), want, "offset {offset} a {a} n {n}");
                }
            }
        }
    }
}
