//! Linear statistics of a window: count, mean, min, max, sample std and sum.
//!
//! The order of the additions is part of the numbers (the last bits of a
//! mean or std), and every path keeps it:
//! - a window of fewer than [`LONG`] rows is summed in row order, several
//!   windows side by side (their additions independent of each other);
//! - a longer window is summed in [`PARTS`] partial sums, row `r` (counted
//!   from the window's first) into part `r % PARTS`, and its sum is
//!   `((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7))`; the squared
//!   deviations likewise. The scalar loop and the same additions eight at a
//!   time with AVX-512 (four with AVX2), each part one lane and no fused
//!   multiply-add, give the same bits on every processor. Eight independent
//!   sums are what makes a long window fast: a single running sum waits for
//!   each addition in turn (a 1 Hz window of 600 rows: 600 waits).

use super::kernel::Acc;

/// How many partial sums a long window's rows are summed into (see the
/// module).
const PARTS: usize = 8;

/// The least number of rows of a window summed in [`PARTS`] (see the module).
pub(super) const LONG: usize = 64;

/// The partial counts, sums and extremes of a window.
#[derive(Clone, Copy)]
struct Parts {
    n: [u64; PARTS],
    sum: [f64; PARTS],
    min: [f64; PARTS],
    max: [f64; PARTS],
}

impl Parts {
    const EMPTY: Parts = Parts {
        n: [0; PARTS],
        sum: [0.0; PARTS],
        min: [f64::INFINITY; PARTS],
        max: [f64::NEG_INFINITY; PARTS],
    };

    /// Adds `x` to part `k`. With `NAN`, a NaN is no sample: it counts not
    /// and adds 0, and `x < min`, `x > max` are false for it (no branch).
    #[inline(always)]
    fn add<const NAN: bool>(&mut self, k: usize, x: f64) {
        let ok = !NAN || !x.is_nan();
        self.n[k] += ok as u64;
        self.sum[k] += if ok { x } else { 0.0 };
        self.min[k] = if x < self.min[k] { x } else { self.min[k] };
        self.max[k] = if x > self.max[k] { x } else { self.max[k] };
    }

    /// Count, sum, least and greatest of the window.
    #[inline(always)]
    fn total(&self) -> (usize, f64, f64, f64) {
        let n = self.n.iter().sum::<u64>() as usize;
        let min = self
            .min
            .iter()
            .fold(f64::INFINITY, |a, &b| if b < a { b } else { a });
        let max = self
            .max
            .iter()
            .fold(f64::NEG_INFINITY, |a, &b| if b > a { b } else { a });
        (n, tree_sum(&self.sum), min, max)
    }
}

/// `((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7))`.
#[inline(always)]
fn tree_sum(p: &[f64; PARTS]) -> f64 {
    ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]))
}

/// Mean, min, max and sample std of the non-NaN values of `xs` (one
/// window): one pass for the count, sum and extremes, a second for the
/// squared deviations. The std of identical samples is exactly 0, their
/// mean that sample.
#[inline]
pub(super) fn linear(xs: &[f64], want_std: bool) -> Acc {
    let [acc] = linear_lanes::<1, true>(xs, xs.len(), want_std);
    acc
}

/// [`linear`] of the `L` windows of `w` rows each in `block` (see
/// [`short_lanes`] and [`long_lanes`]).
#[inline(always)]
pub(super) fn linear_lanes<const L: usize, const NAN: bool>(
    block: &[f64],
    w: usize,
    want_std: bool,
) -> [Acc; L] {
    let lanes: [&[f64]; L] = std::array::from_fn(|l| &block[l * w..(l + 1) * w]);
    if w < LONG {
        short_lanes::<L, NAN>(lanes, w, want_std)
    } else {
        long_lanes::<L, NAN>(lanes, want_std)
    }
}

/// [`linear`] of the `L` windows `lanes` of `w < LONG` rows each, in row
/// order, computed side by side: the same operations in the same order per
/// window, with `L` independent chains for the processor to overlap. With
/// `NAN` false the rows are taken to be samples, and a block whose sums come
/// out NaN is computed again with it true.
// Rows are indexed across the lanes on purpose (one row of every lane per step).
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn short_lanes<const L: usize, const NAN: bool>(
    lanes: [&[f64]; L],
    w: usize,
    want_std: bool,
) -> [Acc; L] {
    let mut n = [0usize; L];
    let mut sum = [0.0; L];
    let mut min = [f64::INFINITY; L];
    let mut max = [f64::NEG_INFINITY; L];
    for r in 0..w {
        for l in 0..L {
            let x = lanes[l][r];
            let ok = !NAN || !x.is_nan();
            n[l] += ok as usize;
            sum[l] += if ok { x } else { 0.0 };
            min[l] = if x < min[l] { x } else { min[l] };
            max[l] = if x > max[l] { x } else { max[l] };
        }
    }
    if !NAN && sum.iter().any(|s| s.is_nan()) {
        return short_lanes::<L, true>(lanes, w, want_std);
    }
    let mean: [f64; L] = std::array::from_fn(|l| sum[l] / n[l] as f64);
    // Squared deviations for every lane (used where a std is computed).
    let mut m2 = [0.0; L];
    if want_std && (0..L).any(|l| n[l] >= 2 && min[l] != max[l]) {
        for r in 0..w {
            for l in 0..L {
                m2[l] += deviation2::<NAN>(lanes[l][r], mean[l]);
            }
        }
    }
    std::array::from_fn(|l| window_acc(n[l], sum[l], min[l], max[l], want_std, |_| m2[l]))
}

/// [`linear`] of the `L` windows `lanes` of `LONG` rows or more each, one
/// after another, each summed in [`PARTS`]. With `NAN` false the rows are
/// taken to be samples (no NaN test), and a block whose sums come out NaN (a
/// NaN, or infinities of both signs) is computed again with it true.
// (Not inlined: a call per block of hundreds of rows costs nothing, and the
// short windows' loop stays small.)
#[inline(never)]
fn long_lanes<const L: usize, const NAN: bool>(lanes: [&[f64]; L], want_std: bool) -> [Acc; L] {
    let mut n = [0usize; L];
    let (mut sum, mut min, mut max) = ([0.0; L], [0.0; L], [0.0; L]);
    for l in 0..L {
        (n[l], sum[l], min[l], max[l]) = first_pass::<NAN>(lanes[l]).total();
    }
    if !NAN && sum.iter().any(|s| s.is_nan()) {
        return long_lanes::<L, true>(lanes, want_std);
    }
    std::array::from_fn(|l| {
        let m2 = |mean| squared_deviations::<NAN>(lanes[l], mean);
        window_acc(n[l], sum[l], min[l], max[l], want_std, m2)
    })
}

/// A window's statistics from its count, sum and extremes; `m2(mean)` its
/// sum of squared deviations from the mean, taken only where a std is
/// computed (two samples or more, not all equal). The std of identical
/// samples is exactly 0, their mean that sample.
#[inline(always)]
fn window_acc(
    n: usize,
    sum: f64,
    min: f64,
    max: f64,
    want_std: bool,
    m2: impl FnOnce(f64) -> f64,
) -> Acc {
    if n == 0 {
        return Acc::empty(0);
    }
    let mean = sum / n as f64;
    let std = if !want_std || n < 2 {
        f64::NAN
    } else if min == max {
        0.0
    } else {
        (m2(mean) / (n - 1) as f64).sqrt()
    };
    let m = if min == max { min } else { mean };
    Acc::moments(n, m, min, max, std, sum)
}

/// The [`Parts`] of the window `xs`.
#[inline(always)]
fn first_pass<const NAN: bool>(xs: &[f64]) -> Parts {
    let whole = xs.len() - xs.len() % PARTS;
    #[cfg(target_arch = "x86_64")]
    let mut p = if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the processor has AVX-512F (checked just above).
        unsafe { x86::first_pass_avx512::<NAN>(&xs[..whole]) }
    } else if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked just above).
        unsafe { x86::first_pass_avx2::<NAN>(&xs[..whole]) }
    } else {
        first_pass_scalar::<NAN>(&xs[..whole])
    };
    #[cfg(not(target_arch = "x86_64"))]
    let mut p = first_pass_scalar::<NAN>(&xs[..whole]);
    for (k, &x) in xs[whole..].iter().enumerate() {
        p.add::<NAN>(k, x);
    }
    p
}

/// [`first_pass`] of whole chunks of [`PARTS`] rows, one part at a time.
#[inline(always)]
fn first_pass_scalar<const NAN: bool>(xs: &[f64]) -> Parts {
    let mut p = Parts::EMPTY;
    for c in xs.chunks_exact(PARTS) {
        for (k, &x) in c.iter().enumerate() {
            p.add::<NAN>(k, x);
        }
    }
    p
}

/// The sum of `(x - mean)²` over the window `xs` (NaN left out, with
/// `NAN`), in [`PARTS`].
#[inline(always)]
fn squared_deviations<const NAN: bool>(xs: &[f64], mean: f64) -> f64 {
    let whole = xs.len() - xs.len() % PARTS;
    #[cfg(target_arch = "x86_64")]
    let mut m2 = if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the processor has AVX-512F (checked just above).
        unsafe { x86::squared_deviations_avx512::<NAN>(&xs[..whole], mean) }
    } else if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked just above).
        unsafe { x86::squared_deviations_avx2::<NAN>(&xs[..whole], mean) }
    } else {
        squared_deviations_scalar::<NAN>(&xs[..whole], mean)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let mut m2 = squared_deviations_scalar::<NAN>(&xs[..whole], mean);
    for (k, &x) in xs[whole..].iter().enumerate() {
        m2[k] += deviation2::<NAN>(x, mean);
    }
    tree_sum(&m2)
}

/// [`squared_deviations`]' parts over whole chunks, one part at a time.
#[inline(always)]
fn squared_deviations_scalar<const NAN: bool>(xs: &[f64], mean: f64) -> [f64; PARTS] {
    let mut m2 = [0.0; PARTS];
    for c in xs.chunks_exact(PARTS) {
        for (k, &x) in c.iter().enumerate() {
            m2[k] += deviation2::<NAN>(x, mean);
        }
    }
    m2
}

/// `(x - mean)²`, 0 for a NaN `x` (with `NAN`).
#[inline(always)]
fn deviation2<const NAN: bool>(x: f64, mean: f64) -> f64 {
    let d = if NAN && x.is_nan() { 0.0 } else { x - mean };
    d * d
}

/// The whole chunks' loops with the parts in vector lanes: the operations of
/// [`Parts::add`] and [`deviation2`] lane by lane (`min_pd(x, m)` is
/// `x < m ? x : m`, `max_pd` likewise; no fused multiply-add), so the same
/// numbers.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{Parts, PARTS};

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn first_pass_avx512<const NAN: bool>(xs: &[f64]) -> Parts {
        let mut n = _mm512_setzero_si512();
        let mut sum = _mm512_setzero_pd();
        let mut min = _mm512_set1_pd(f64::INFINITY);
        let mut max = _mm512_set1_pd(f64::NEG_INFINITY);
        let one = _mm512_set1_epi64(1);
        for c in xs.chunks_exact(PARTS) {
            // SAFETY: `c` holds PARTS = 8 values.
            let x = unsafe { _mm512_loadu_pd(c.as_ptr()) };
            if NAN {
                let ok = _mm512_cmp_pd_mask::<_CMP_ORD_Q>(x, x);
                n = _mm512_mask_add_epi64(n, ok, n, one);
                sum = _mm512_add_pd(sum, _mm512_maskz_mov_pd(ok, x));
            } else {
                sum = _mm512_add_pd(sum, x);
            }
            min = _mm512_min_pd(x, min);
            max = _mm512_max_pd(x, max);
        }
        let mut p = Parts::EMPTY;
        if NAN {
            // SAFETY: `p.n` holds 8 u64.
            unsafe { _mm512_storeu_si512(p.n.as_mut_ptr().cast(), n) };
        } else {
            p.n = [(xs.len() / PARTS) as u64; PARTS];
        }
        // SAFETY: each array holds 8 f64.
        unsafe {
            _mm512_storeu_pd(p.sum.as_mut_ptr(), sum);
            _mm512_storeu_pd(p.min.as_mut_ptr(), min);
            _mm512_storeu_pd(p.max.as_mut_ptr(), max);
        }
        p
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn first_pass_avx2<const NAN: bool>(xs: &[f64]) -> Parts {
        let mut n = [_mm256_setzero_si256(); 2];
        let mut sum = [_mm256_setzero_pd(); 2];
        let mut min = [_mm256_set1_pd(f64::INFINITY); 2];
        let mut max = [_mm256_set1_pd(f64::NEG_INFINITY); 2];
        for c in xs.chunks_exact(PARTS) {
            for h in 0..2 {
                // SAFETY: `c` holds 8 values, h * 4 + 4 <= 8.
                let x = unsafe { _mm256_loadu_pd(c.as_ptr().add(h * 4)) };
                if NAN {
                    let ok = _mm256_cmp_pd::<_CMP_ORD_Q>(x, x);
                    // `ok` is all ones (-1) in a lane with a sample.
                    n[h] = _mm256_sub_epi64(n[h], _mm256_castpd_si256(ok));
                    sum[h] = _mm256_add_pd(sum[h], _mm256_and_pd(ok, x));
                } else {
                    sum[h] = _mm256_add_pd(sum[h], x);
                }
                min[h] = _mm256_min_pd(x, min[h]);
                max[h] = _mm256_max_pd(x, max[h]);
            }
        }
        let mut p = Parts::EMPTY;
        for h in 0..2 {
            // SAFETY: each array holds 8 values, h * 4 + 4 <= 8.
            unsafe {
                if NAN {
                    _mm256_storeu_si256(p.n.as_mut_ptr().add(h * 4).cast(), n[h]);
                }
                _mm256_storeu_pd(p.sum.as_mut_ptr().add(h * 4), sum[h]);
                _mm256_storeu_pd(p.min.as_mut_ptr().add(h * 4), min[h]);
                _mm256_storeu_pd(p.max.as_mut_ptr().add(h * 4), max[h]);
            }
        }
        if !NAN {
            p.n = [(xs.len() / PARTS) as u64; PARTS];
        }
        p
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn squared_deviations_avx512<const NAN: bool>(
        xs: &[f64],
        mean: f64,
    ) -> [f64; PARTS] {
        let m = _mm512_set1_pd(mean);
        let mut m2 = _mm512_setzero_pd();
        for c in xs.chunks_exact(PARTS) {
            // SAFETY: `c` holds PARTS = 8 values.
            let x = unsafe { _mm512_loadu_pd(c.as_ptr()) };
            let d = _mm512_sub_pd(x, m);
            let d = if NAN {
                _mm512_maskz_mov_pd(_mm512_cmp_pd_mask::<_CMP_ORD_Q>(x, x), d)
            } else {
                d
            };
            m2 = _mm512_add_pd(m2, _mm512_mul_pd(d, d));
        }
        let mut out = [0.0; PARTS];
        // SAFETY: `out` holds 8 f64.
        unsafe { _mm512_storeu_pd(out.as_mut_ptr(), m2) };
        out
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn squared_deviations_avx2<const NAN: bool>(
        xs: &[f64],
        mean: f64,
    ) -> [f64; PARTS] {
        let m = _mm256_set1_pd(mean);
        let mut m2 = [_mm256_setzero_pd(); 2];
        for c in xs.chunks_exact(PARTS) {
            for (h, acc) in m2.iter_mut().enumerate() {
                // SAFETY: `c` holds 8 values, h * 4 + 4 <= 8.
                let x = unsafe { _mm256_loadu_pd(c.as_ptr().add(h * 4)) };
                let d = _mm256_sub_pd(x, m);
                let d = if NAN {
                    _mm256_and_pd(_mm256_cmp_pd::<_CMP_ORD_Q>(x, x), d)
                } else {
                    d
                };
                *acc = _mm256_add_pd(*acc, _mm256_mul_pd(d, d));
            }
        }
        let mut out = [0.0; PARTS];
        for (h, acc) in m2.iter().enumerate() {
            // SAFETY: `out` holds 8 f64, h * 4 + 4 <= 8.
            unsafe { _mm256_storeu_pd(out.as_mut_ptr().add(h * 4), *acc) };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resample::trig::test_numbers;

    /// Every path (AVX-512, AVX2, scalar; with and without the NaN test)
    /// gives the same bits, windows of 0 to 40 rows and long ones, with and
    /// without NaN and infinities.
    #[test]
    fn every_path_gives_the_same_parts() {
        let mut rnd = test_numbers(7);
        for len in (0..=40usize).chain([63, 64, 65, 71, 600, 603]) {
            for kind in 0..4 {
                let xs: Vec<f64> = (0..len)
                    .map(|i| match (kind, i % 7) {
                        (1, 3) => f64::NAN,
                        (2, 5) => f64::INFINITY,
                        (3, _) => 2.5,
                        _ => rnd() * 1e3 - 300.0,
                    })
                    .collect();
                let whole = len - len % PARTS;
                let want = first_pass_scalar::<true>(&xs[..whole]);
                let want_m2 = squared_deviations_scalar::<true>(&xs[..whole], 1.25);
                let mut got = vec![];
                #[cfg(target_arch = "x86_64")]
                {
                    if std::arch::is_x86_feature_detected!("avx512f") {
                        got.push(unsafe {
                            (
                                x86::first_pass_avx512::<true>(&xs[..whole]),
                                x86::squared_deviations_avx512::<true>(&xs[..whole], 1.25),
                            )
                        });
                    }
                    if std::arch::is_x86_feature_detected!("avx2") {
                        got.push(unsafe {
                            (
                                x86::first_pass_avx2::<true>(&xs[..whole]),
                                x86::squared_deviations_avx2::<true>(&xs[..whole], 1.25),
                            )
                        });
                    }
                }
                for (p, m2) in got {
                    assert_eq!(p.n, want.n, "{len} {kind}");
                    for k in 0..PARTS {
                        for (a, b) in [
                            (p.sum[k], want.sum[k]),
                            (p.min[k], want.min[k]),
                            (p.max[k], want.max[k]),
                            (m2[k], want_m2[k]),
                        ] {
                            assert!(
                                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                                "{len} {kind} {k}: {a} vs {b}"
                            );
                        }
                    }
                }
                // Without NaN, the dense loop gives what the NaN-aware one does.
                if kind != 1 {
                    let a = linear_lanes::<1, false>(&xs, len, true)[0];
                    let b = linear(&xs, true);
                    for (x, y) in [
                        (a.mean, b.mean),
                        (a.std, b.std),
                        (a.min, b.min),
                        (a.max, b.max),
                    ] {
                        assert!(x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()));
                    }
                    assert_eq!(a.n, b.n);
                }
            }
        }
    }

    /// The parts and their order: a long window's sum is the tree of its
    /// eight partial sums, not the running sum (which differs in the last
    /// bits); a short window's the running sum.
    #[test]
    fn a_window_sums_in_eight_parts() {
        let xs: Vec<f64> = (0..70)
            .map(|i| 0.1 * (i as f64) + 1e-3 * (i * i) as f64)
            .collect();
        let mut parts = [0.0; PARTS];
        for (r, x) in xs.iter().enumerate() {
            parts[r % PARTS] += x;
        }
        let running = |xs: &[f64]| xs.iter().fold(0.0, |s, x| s + x);
        assert_ne!(
            tree_sum(&parts),
            running(&xs),
            "a case where the orders differ"
        );
        let acc = linear(&xs, true);
        assert_eq!(acc.sum.to_bits(), tree_sum(&parts).to_bits());
        assert_eq!(acc.mean.to_bits(), (tree_sum(&parts) / 70.0).to_bits());
        assert_eq!(acc.n, 70);
        // Several long windows side by side: the same parts.
        let block: Vec<f64> = xs.iter().chain(&xs).copied().collect();
        for acc in linear_lanes::<2, false>(&block, 70, true) {
            assert_eq!(acc.sum.to_bits(), tree_sum(&parts).to_bits());
        }
        // Fewer than LONG rows: in row order.
        let short = &xs[..LONG - 1];
        assert_ne!(running(short), {
            let mut p = [0.0; PARTS];
            short
                .iter()
                .enumerate()
                .for_each(|(r, x)| p[r % PARTS] += x);
            tree_sum(&p)
        });
        assert_eq!(linear(short, true).sum.to_bits(), running(short).to_bits());
    }
}
