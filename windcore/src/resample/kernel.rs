//! The fused single pass: every statistic of every variable of a piece of
//! whole windows, in one loop over its rows.

use std::mem::MaybeUninit;

use polars_arrow::bitmap::Bitmap;

use super::circular::{circular, circular_lanes};
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
    // starts need no search, and the linear statistics of the LANES windows
    // are summed side by side (each window's sums in its own row order, so
    // the numbers are those of `linear`).
    let w = if cfg.extras {
        0
    } else {
        step.map_or(0, |s| (cfg.grid.every / s) as usize)
    };
    while i < p.hi {
        if w > 0 && k > 0 && i + LANES * w <= p.hi {
            // Regular rows leave no window out: this one follows the last
            // (its start needs no read of the timestamps, nor a division).
            let start = prev_start + cfg.grid.every;
            debug_assert_eq!(start, cfg.grid.start(ts[i]));
            for l in 0..LANES {
                starts[k + l].write(start + l as i64 * cfg.grid.every + cfg.label_shift);
                if !segs.is_empty() {
                    segs[k + l].write(p.seg);
                }
            }
            prev_start = start + (LANES as i64 - 1) * cfg.grid.every;
            for (vi, var) in p.vars.iter().enumerate() {
                let block = &var.values[i..i + LANES * w];
                let accs: [Acc; LANES] = match (var.validity, var.angle) {
                    (None, false) => linear_lanes_dense(block, w, cfg.want_std),
                    // Most blocks of a column with a few nulls have none.
                    (Some(b), false) if all_valid(b, i, LANES * w) => {
                        linear_lanes_dense(block, w, cfg.want_std)
                    }
                    (Some(b), false) => linear_lanes(
                        block,
                        w,
                        |r, x| {
                            // SAFETY: the validity bitmap has one bit per row of `values`.
                            if unsafe { b.get_bit_unchecked(i + r) } {
                                x
                            } else {
                                f64::NAN
                            }
                        },
                        cfg.want_std,
                    ),
                    (None, true) => circular_lanes(block, w, cfg.want_std, &mut scratch),
                    (Some(b), true) if all_valid(b, i, LANES * w) => {
                        circular_lanes(block, w, cfg.want_std, &mut scratch)
                    }
                    (Some(b), true) => {
                        // The block with NaN for its nulls (as `accumulate`
                        // hands each window to `circular`): a direction
                        // column missing 1 % of its samples has a null in a
                        // third of its blocks.
                        buf.clear();
                        buf.extend(block.iter().enumerate().map(|(r, &x)| {
                            // SAFETY: the validity bitmap has one bit per row of `values`.
                            if unsafe { b.get_bit_unchecked(i + r) } {
                                x
                            } else {
                                f64::NAN
                            }
                        }));
                        circular_lanes(&buf, w, cfg.want_std, &mut scratch)
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
            k += LANES;
            i += LANES * w;
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
    // Each `get` returns NaN for a row that is not a sample (null, NaN, or a
    // duplicate timestamp followed by a later row of the same instant).
    match (has_dup, var.validity, var.angle) {
        (false, None, true) => circular(&values[i..j], want_std),
        (false, Some(b), true) if all_valid(b, i, j - i) => circular(&values[i..j], want_std),
        (false, None, false) => linear(i, j, |k| values[k], want_std),
        (false, Some(b), false) if all_valid(b, i, j - i) => linear(i, j, |k| values[k], want_std),
        (false, Some(b), false) => linear(
            i,
            j,
            |k| {
                // SAFETY: the validity bitmap has one bit per row of `values`.
                if unsafe { b.get_bit_unchecked(k) } {
                    values[k]
                } else {
                    f64::NAN
                }
            },
            want_std,
        ),
        (_, validity, angle) => {
            let get = |k: usize| {
                let dropped = has_dup && k + 1 < j && ts[k + 1] == ts[k];
                let valid = validity.is_none_or(|b| b.get_bit(k));
                if dropped || !valid {
                    f64::NAN
                } else {
                    values[k]
                }
            };
            if angle {
                buf.clear();
                buf.extend((i..j).map(get));
                circular(buf, want_std)
            } else {
                linear(i, j, get, want_std)
            }
        }
    }
}

/// Mean, min, max and sample std of the non-NaN values `get(i..j)`: a tight,
/// branch-free loop (`x < min` and `x > max` are false for NaN, and the count
/// and sums add 0 for it), then a second pass for the squared deviations.
/// The std of identical samples is exactly 0.
#[inline]
pub(super) fn linear(i: usize, j: usize, get: impl Fn(usize) -> f64, want_std: bool) -> Acc {
    let mut n = 0usize;
    let mut sum = 0.0;
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    for k in i..j {
        let x = get(k);
        let ok = !x.is_nan();
        n += ok as usize;
        sum += if ok { x } else { 0.0 };
        min = if x < min { x } else { min };
        max = if x > max { x } else { max };
    }
    if n == 0 {
        return Acc::empty(0);
    }
    let mean = sum / n as f64;
    let std = if !want_std || n < 2 {
        f64::NAN
    } else if min == max {
        0.0
    } else {
        let mut m2 = 0.0;
        for k in i..j {
            let x = get(k);
            let d = if x.is_nan() { 0.0 } else { x - mean };
            m2 += d * d;
        }
        (m2 / (n - 1) as f64).sqrt()
    };
    // The mean of identical samples is that sample, exactly.
    let mean = if min == max { min } else { mean };
    Acc::moments(n, mean, min, max, std, sum)
}

/// [`linear`] of the LANES windows of `w` rows each in `block` (row `r` is
/// `get(r, block[r])`, NaN where not a sample), computed side by side: the
/// same operations in the same order per window (so the same numbers), with
/// LANES independent chains for the processor to overlap.
#[inline]
// Rows are indexed across the lanes on purpose (one row of every lane per step).
#[allow(clippy::needless_range_loop)]
fn linear_lanes(
    block: &[f64],
    w: usize,
    get: impl Fn(usize, f64) -> f64,
    want_std: bool,
) -> [Acc; LANES] {
    let lanes: [&[f64]; LANES] = std::array::from_fn(|l| &block[l * w..(l + 1) * w]);
    let mut n = [0usize; LANES];
    let mut sum = [0.0; LANES];
    let mut min = [f64::INFINITY; LANES];
    let mut max = [f64::NEG_INFINITY; LANES];
    for r in 0..w {
        for l in 0..LANES {
            let x = get(l * w + r, lanes[l][r]);
            let ok = !x.is_nan();
            n[l] += ok as usize;
            sum[l] += if ok { x } else { 0.0 };
            min[l] = if x < min[l] { x } else { min[l] };
            max[l] = if x > max[l] { x } else { max[l] };
        }
    }
    let mean: [f64; LANES] = std::array::from_fn(|l| sum[l] / n[l] as f64);
    // Squared deviations for every lane (used where `linear` computes them).
    let mut m2 = [0.0; LANES];
    if want_std && (0..LANES).any(|l| n[l] >= 2 && min[l] != max[l]) {
        for r in 0..w {
            for l in 0..LANES {
                let x = get(l * w + r, lanes[l][r]);
                let d = if x.is_nan() { 0.0 } else { x - mean[l] };
                m2[l] += d * d;
            }
        }
    }
    std::array::from_fn(|l| {
        if n[l] == 0 {
            return Acc::empty(0);
        }
        let std = if !want_std || n[l] < 2 {
            f64::NAN
        } else if min[l] == max[l] {
            0.0
        } else {
            (m2[l] / (n[l] - 1) as f64).sqrt()
        };
        let m = if min[l] == max[l] { min[l] } else { mean[l] };
        Acc::moments(n[l], m, min[l], max[l], std, sum[l])
    })
}

/// [`linear_lanes`] of a block without nulls, first assuming it has no NaN
/// either: then every row is a sample and the sums are those of `linear`
/// without its NaN tests. A NaN makes a sum NaN, and the block is computed
/// again with them.
#[inline]
// Rows are indexed across the lanes on purpose (one row of every lane per step).
#[allow(clippy::needless_range_loop)]
fn linear_lanes_dense(block: &[f64], w: usize, want_std: bool) -> [Acc; LANES] {
    let lanes: [&[f64]; LANES] = std::array::from_fn(|l| &block[l * w..(l + 1) * w]);
    let mut sum = [0.0; LANES];
    let mut min = [f64::INFINITY; LANES];
    let mut max = [f64::NEG_INFINITY; LANES];
    for r in 0..w {
        for l in 0..LANES {
            let x = lanes[l][r];
            sum[l] += x;
            min[l] = if x < min[l] { x } else { min[l] };
            max[l] = if x > max[l] { x } else { max[l] };
        }
    }
    if sum.iter().any(|s| s.is_nan()) || w == 0 {
        return linear_lanes(block, w, |_, x| x, want_std);
    }
    let mean: [f64; LANES] = std::array::from_fn(|l| sum[l] / w as f64);
    let mut m2 = [0.0; LANES];
    if want_std && w >= 2 && (0..LANES).any(|l| min[l] != max[l]) {
        for r in 0..w {
            for l in 0..LANES {
                let d = lanes[l][r] - mean[l];
                m2[l] += d * d;
            }
        }
    }
    std::array::from_fn(|l| {
        let std = if !want_std || w < 2 {
            f64::NAN
        } else if min[l] == max[l] {
            0.0
        } else {
            (m2[l] / (w - 1) as f64).sqrt()
        };
        let m = if min[l] == max[l] { min[l] } else { mean[l] };
        Acc::moments(w, m, min[l], max[l], std, sum[l])
    })
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
