//! Circular statistics of angles in degrees.

use super::kernel::Acc;
use super::trig::{atan2, libm_sin_cos_sums, sin_cos_block};

/// Below this length of the mean unit vector the directions cancel and have
/// no mean.
const MIN_RESULTANT: f64 = 1e-9;

/// `x` taken into `[0, 360)`.
#[inline]
fn norm360(x: f64) -> f64 {
    // A turn added or taken away where that is exact (no division); else
    // rem_euclid, which can round up to 360.0 for tiny negative x.
    let r = if (0.0..360.0).contains(&x) {
        x
    } else if (-360.0..0.0).contains(&x) {
        x + 360.0
    } else if (360.0..720.0).contains(&x) {
        x - 360.0
    } else {
        x.rem_euclid(360.0)
    };
    if r >= 360.0 {
        0.0
    } else {
        r + 0.0 // turns -0.0 into 0.0
    }
}

/// `d` taken into `[-180, 180)`.
#[inline]
fn wrap180(d: f64) -> f64 {
    let x = d + 180.0;
    // `x.rem_euclid(360.0)`, which is exact, without the division where the
    // result is plain: x itself in [0, 360), x - 360 (exact there) in
    // [360, 720), x + 360 in [-360, 0) where that does not round up to 360.
    let r = if (0.0..360.0).contains(&x) {
        x
    } else if (360.0..720.0).contains(&x) {
        x - 360.0
    } else if (-360.0..0.0).contains(&x) && x + 360.0 < 360.0 {
        x + 360.0
    } else {
        x.rem_euclid(360.0)
    };
    r - 180.0
}

/// Circular statistics of the angles in degrees of `xs`, NaN left out:
/// the direction of the mean unit vector, `sqrt(-2 ln R)` in degrees, and
/// the mean plus the most negative / positive deviation from it.
///
/// One pass sums the sines and cosines and finds the least and greatest
/// angle (all equal: that angle, exactly; beyond ±1e15°: libm, see
/// `trig::sin_cos_deg`); the deviations from the mean follow from those or, for
/// a window spread over more than half a turn, from a second pass.
pub(super) fn circular(xs: &[f64], want_std: bool) -> Acc {
    let mut sums = Sums::EMPTY;
    // The sines and cosines a block at a time (a loop without a branch or
    // a sum, which the compiler runs several lanes wide), then summed in
    // order.
    const BLOCK: usize = 32;
    let (mut sins, mut coss) = ([0.0; BLOCK], [0.0; BLOCK]);
    for part in xs.chunks(BLOCK) {
        let m = part.len();
        sin_cos_block(part, &mut sins[..m], &mut coss[..m]);
        for ((&x, &sin), &cos) in part.iter().zip(&sins[..m]).zip(&coss[..m]) {
            sums.add(x, sin, cos);
        }
    }
    finish(xs, sums, want_std, atan2(sums.s, sums.c))
}

/// [`circular`] of the `L` windows of `w` angles each in `block`, computed
/// side by side: the block's rows laid out row by row across the windows
/// (in `scratch`), their sines and cosines in one loop, every window's sums
/// at once (each in its own row order, so the numbers are those of
/// [`circular`]), and the `L` mean directions in one loop.
pub(super) fn circular_lanes<const L: usize>(
    block: &[f64],
    w: usize,
    want_std: bool,
    scratch: &mut Vec<f64>,
) -> [Acc; L] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the processor has AVX-512F (checked just above).
            return unsafe { circular_lanes_avx512(block, w, want_std, scratch) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2 (checked just above).
            return unsafe { circular_lanes_avx2(block, w, want_std, scratch) };
        }
    }
    circular_lanes_body(block, w, want_std, scratch)
}

/// [`circular_lanes`] compiled for processors with AVX-512F: the sines and
/// cosines eight at a time instead of two (the same numbers: no fused
/// multiply-add).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn circular_lanes_avx512<const L: usize>(
    block: &[f64],
    w: usize,
    want_std: bool,
    scratch: &mut Vec<f64>,
) -> [Acc; L] {
    circular_lanes_body(block, w, want_std, scratch)
}

/// [`circular_lanes`] compiled for processors with AVX2 (four at a time).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn circular_lanes_avx2<const L: usize>(
    block: &[f64],
    w: usize,
    want_std: bool,
    scratch: &mut Vec<f64>,
) -> [Acc; L] {
    circular_lanes_body(block, w, want_std, scratch)
}

// Rows are indexed across the lanes on purpose (one row of every lane per step).
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn circular_lanes_body<const L: usize>(
    block: &[f64],
    w: usize,
    want_std: bool,
    scratch: &mut Vec<f64>,
) -> [Acc; L] {
    let m = L * w;
    debug_assert_eq!(block.len(), m);
    if scratch.len() < 3 * m {
        scratch.resize(3 * m, 0.0);
    }
    // The block's rows side by side (row r of every window, then row r + 1),
    // so that the sums below take every window at once.
    let (xs, rest) = scratch[..3 * m].split_at_mut(m);
    let (sins, coss) = rest.split_at_mut(m);
    for r in 0..w {
        for l in 0..L {
            xs[r * L + l] = block[l * w + r];
        }
    }
    sin_cos_block(xs, sins, coss);
    // Each window's sums as `Sums::add` forms them, the windows in lanes.
    let (mut n, mut s, mut c) = ([0usize; L], [0.0; L], [0.0; L]);
    let (mut lo, mut hi) = ([f64::INFINITY; L], [f64::NEG_INFINITY; L]);
    for r in 0..w {
        let k = r * L;
        for l in 0..L {
            let x = xs[k + l];
            n[l] += !x.is_nan() as usize;
            s[l] += sins[k + l];
            c[l] += coss[k + l];
            lo[l] = if x < lo[l] { x } else { lo[l] };
            hi[l] = if x > hi[l] { x } else { hi[l] };
        }
    }
    let mut angle = [0.0; L];
    for l in 0..L {
        angle[l] = atan2(s[l], c[l]);
    }
    // The usual windows' statistics side by side, as `finish` gives them:
    // the same operations, chosen without a branch (see `norm360_turn`),
    // for a window with samples, finite angles not all equal and within
    // ±1e15, a mean direction, and its least and greatest angle within half
    // a turn of it (the extremes need no second pass: see `deviations`).
    let (mut usual, mut r) = ([false; L], [0.0; L]);
    let (mut mean, mut min, mut max) = ([0.0; L], [0.0; L], [0.0; L]);
    for l in 0..L {
        r[l] = (s[l] * s[l] + c[l] * c[l]).sqrt() / n[l] as f64;
        mean[l] = norm360_turn(angle[l].to_degrees());
        let (a, b) = ((lo[l] - mean[l]) + 180.0, (hi[l] - mean[l]) + 180.0);
        // `wrap180` of the extremes' deviations is `a - 180`, `b - 180`.
        min[l] = norm360_turn(mean[l] + (a - 180.0));
        max[l] = norm360_turn(mean[l] + (b - 180.0));
        // (`&`, not `&&` nor `contains`: with branches here the loop ran
        // one window at a time: a third slower over the block.)
        #[allow(clippy::manual_range_contains)]
        let within = (a >= 0.0) & (a < 360.0) & (b >= 0.0) & (b < 360.0);
        usual[l] = (n[l] > 0)
            & (lo[l] != hi[l])
            & (lo[l] >= -1e15)
            & (hi[l] <= 1e15)
            & (r[l] >= MIN_RESULTANT)
            & within;
    }
    // (A loop rather than `array::from_fn`, which is not inlined into the
    // builds for wider vectors.)
    let mut accs = [Acc::empty(0); L];
    for l in 0..L {
        accs[l] = if usual[l] {
            let std = circular_std(r[l], n[l], want_std);
            Acc::moments(n[l], mean[l], min[l], max[l], std, f64::NAN)
        } else {
            let sums = Sums {
                n: n[l],
                s: s[l],
                c: c[l],
                lo: lo[l],
                hi: hi[l],
            };
            finish(&block[l * w..(l + 1) * w], sums, want_std, angle[l])
        };
    }
    accs
}

/// `x` in [-360, 720) (else any value) brought to [0, 360] by one turn at
/// most, without a branch: a turn added below 0, taken away from 360 on
/// (the sum can round up to 360). The step [`norm360`] and [`wrap180`] take
/// there by their branches.
#[inline(always)]
fn one_turn(x: f64) -> f64 {
    let up = if x < 0.0 { 360.0 } else { 0.0 };
    let down = if x >= 360.0 { 360.0 } else { 0.0 };
    (x + up) - down
}

/// [`norm360`] of `x` in [-360, 720) (else any value), without a branch.
#[inline(always)]
fn norm360_turn(x: f64) -> f64 {
    let r = one_turn(x);
    if r >= 360.0 {
        0.0
    } else {
        r + 0.0
    }
}

/// The circular std `sqrt(-2 ln R)` in degrees of `n` angles whose mean
/// unit vector has length `r` (rounding can make it exceed 1 by an ulp);
/// NaN unless asked for and `n >= 2`.
#[inline(always)]
fn circular_std(r: f64, n: usize, want_std: bool) -> f64 {
    if want_std && n >= 2 {
        (-2.0 * r.min(1.0).ln()).sqrt().to_degrees()
    } else {
        f64::NAN
    }
}

/// What one pass over a window's angles gives: how many are not NaN, the
/// sums of their sines and cosines, the least and greatest.
#[derive(Clone, Copy)]
struct Sums {
    n: usize,
    s: f64,
    c: f64,
    lo: f64,
    hi: f64,
}

impl Sums {
    const EMPTY: Sums = Sums {
        n: 0,
        s: 0.0,
        c: 0.0,
        lo: f64::INFINITY,
        hi: f64::NEG_INFINITY,
    };

    /// Adds angle `x` and its sine and cosine as [`sin_cos_block`] gives
    /// them (NaN: left out, without a branch: its sine and cosine are 0).
    #[inline(always)]
    fn add(&mut self, x: f64, sin: f64, cos: f64) {
        self.n += !x.is_nan() as usize;
        self.s += sin;
        self.c += cos;
        self.lo = if x < self.lo { x } else { self.lo };
        self.hi = if x > self.hi { x } else { self.hi };
    }
}

/// The statistics of the window `xs` from its [`Sums`] and `angle`, the
/// [`atan2`] of their sines and cosines.
#[inline(always)]
fn finish(xs: &[f64], sums: Sums, want_std: bool, mut angle: f64) -> Acc {
    let Sums {
        n,
        mut s,
        mut c,
        lo: lo_x,
        hi: hi_x,
    } = sums;
    if n == 0 {
        return Acc::empty(0);
    }
    // An infinite angle has no direction: the window has no circular
    // statistics (its samples still count).
    if lo_x.is_infinite() || hi_x.is_infinite() {
        return Acc::empty(n);
    }
    if lo_x == hi_x {
        let m = norm360(lo_x);
        let std = if want_std && n >= 2 { 0.0 } else { f64::NAN };
        return Acc::moments(n, m, m, m, std, f64::NAN);
    }
    if lo_x < -1e15 || hi_x > 1e15 {
        (s, c) = libm_sin_cos_sums(xs);
        angle = atan2(s, c);
    }
    let r = (s * s + c * c).sqrt() / n as f64;
    if r < MIN_RESULTANT {
        return Acc::empty(n);
    }
    let mean = norm360(angle.to_degrees());
    let (lo, hi) = deviations(xs, mean, lo_x, hi_x);
    let std = circular_std(r, n, want_std);
    Acc::moments(
        n,
        mean,
        norm360(mean + lo),
        norm360(mean + hi),
        std,
        f64::NAN,
    )
}

/// The most negative and most positive deviation `wrap180(x - mean)` of the
/// angles `xs` (NaN left out), whose least and greatest are `lo_x` and `hi_x`.
///
/// Where neither of those needs a turn added or taken away (all of `xs`
/// within 180° of the mean either way, the usual window), `wrap180` is
/// `(x - mean + 180) - 180` for every angle between them, which rounding
/// keeps monotonic: the extremes are those of `lo_x` and `hi_x`, exactly,
/// without a second pass over the window.
///
/// Otherwise, where every `(x - mean) + 180` lies within [-360, 720) (the
/// angles within a turn of the mean: a window of directions in [0, 360)
/// across north), `wrap180` adds or takes away at most one turn, which
/// [`deviations_within_a_turn`] does without a branch, several angles side
/// by side. Only angles further out take the branching pass.
#[inline(always)]
fn deviations(xs: &[f64], mean: f64, lo_x: f64, hi_x: f64) -> (f64, f64) {
    let (a, b) = ((lo_x - mean) + 180.0, (hi_x - mean) + 180.0);
    if (0.0..360.0).contains(&a) && (0.0..360.0).contains(&b) {
        return (wrap180(lo_x - mean), wrap180(hi_x - mean));
    }
    if a >= -360.0 && b < 720.0 {
        return deviations_within_a_turn(xs, mean);
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in xs {
        // NaN stays NaN, which the comparisons pass over.
        let d = wrap180(x - mean);
        lo = if d < lo { d } else { lo };
        hi = if d > hi { d } else { hi };
    }
    (lo, hi)
}

/// The most negative and most positive `wrap180(x - mean)` of `xs` (NaN left
/// out), every `(x - mean) + 180` within [-360, 720) (see [`deviations`]).
///
/// There `wrap180` is `t`, `t - 360` or `t + 360` for `t = (x - mean) + 180`,
/// less 180: the same operations, chosen without a branch (a turn across
/// north is not predictable), so the loop runs eight angles at once, each
/// lane keeping its own extremes.
// Angles are indexed across the lanes on purpose (one per lane per step).
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn deviations_within_a_turn(xs: &[f64], mean: f64) -> (f64, f64) {
    const W: usize = 8;
    #[inline(always)]
    fn wrapped(x: f64, mean: f64) -> f64 {
        one_turn((x - mean) + 180.0) - 180.0
    }
    let (mut lo, mut hi) = ([f64::INFINITY; W], [f64::NEG_INFINITY; W]);
    let chunks = xs.chunks_exact(W);
    let rest = chunks.remainder();
    for chunk in chunks {
        for j in 0..W {
            // NaN stays NaN, which the comparisons pass over.
            let d = wrapped(chunk[j], mean);
            lo[j] = if d < lo[j] { d } else { lo[j] };
            hi[j] = if d > hi[j] { d } else { hi[j] };
        }
    }
    for (j, &x) in rest.iter().enumerate() {
        let d = wrapped(x, mean);
        lo[j] = if d < lo[j] { d } else { lo[j] };
        hi[j] = if d > hi[j] { d } else { hi[j] };
    }
    let lo = lo
        .into_iter()
        .fold(f64::INFINITY, |a, d| if d < a { d } else { a });
    let hi = hi
        .into_iter()
        .fold(f64::NEG_INFINITY, |a, d| if d > a { d } else { a });
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::super::trig::test_numbers;
    use super::*;

    #[test]
    fn nan_is_left_out_as_if_it_were_not_there() {
        let fields = |a: Acc| [a.n as f64, a.mean, a.min, a.max, a.std];
        let cases: [&[f64]; 6] = [
            &[350.0, f64::NAN, 10.0, 5.0, f64::NAN, 355.5],
            &[f64::NAN, 90.0, 90.0, f64::NAN],
            &[f64::NAN, 1e16, 3.0],
            &[0.0, 180.0, f64::NAN],
            &[f64::NAN],
            &[-0.0, f64::NAN, 0.0],
        ];
        for xs in cases {
            let valid: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
            let (a, b) = (fields(circular(xs, true)), fields(circular(&valid, true)));
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    x == y || (x.is_nan() && y.is_nan()),
                    "{xs:?}: {a:?} vs {b:?}"
                );
            }
        }
        // Beyond the reduction, the sums are libm's.
        let (s, c) = libm_sin_cos_sums(&[1e16, 3.0]);
        let mean = circular(&[f64::NAN, 1e16, 3.0], true).mean;
        assert_eq!(mean, norm360(atan2(s, c).to_degrees()));
        // All equal: that angle exactly, spread 0.
        let same = circular(&[f64::NAN, 370.25, 370.25], true);
        assert_eq!(
            [same.mean, same.min, same.max, same.std],
            [10.25, 10.25, 10.25, 0.0]
        );
    }

    #[test]
    fn an_infinite_angle_leaves_the_window_without_circular_statistics() {
        for xs in [
            &[f64::INFINITY, f64::INFINITY][..],
            &[10.0, f64::INFINITY, 20.0],
            &[f64::NEG_INFINITY, f64::NAN, 5.0],
        ] {
            let a = circular(xs, true);
            assert_eq!(a.n, xs.iter().filter(|x| !x.is_nan()).count(), "{xs:?}");
            for v in [a.mean, a.min, a.max, a.std] {
                assert!(v.is_nan(), "{xs:?}: {v}");
            }
            // The same four windows at a time.
            let block: Vec<f64> = std::iter::repeat_n(xs, 4).flatten().copied().collect();
            let lanes: [Acc; 4] = circular_lanes(&block, xs.len(), true, &mut Vec::new());
            assert!(lanes
                .iter()
                .all(|l| l.n == a.n && l.mean.is_nan() && l.std.is_nan()));
        }
    }

    #[test]
    fn the_extremes_of_a_window_within_half_a_turn_equal_the_full_pass() {
        // Random windows, some around north (a turn between their angles),
        // some spread over more than half a turn, some with values beyond
        // [0, 360): the shortcut gives exactly what every deviation gives.
        let mut next = test_numbers(0x2545_f491_4f6c_dd1du64);
        // Windows of 1 to 20 angles (NaN among them), so that the pass
        // within a turn runs with and without a remainder past its lanes.
        let (mut shortcuts, mut within_a_turn) = (0, 0);
        for w in 0..20_000 {
            let centre = next() * 360.0 - if w % 5 == 0 { 720.0 } else { 0.0 };
            let spread = [1.0, 30.0, 179.0, 200.0, 400.0][w % 5];
            let xs: Vec<f64> = (0..1 + w % 20)
                .map(|k| match (w + k) % 9 {
                    0 if w % 3 == 0 => f64::NAN,
                    _ => centre + (next() - 0.5) * spread,
                })
                .collect();
            let mean = norm360(centre + (next() - 0.5) * 2.0);
            let valid = || xs.iter().copied().filter(|x| !x.is_nan());
            let Some(lo_x) = valid().reduce(f64::min) else {
                continue;
            };
            let hi_x = valid().fold(f64::NEG_INFINITY, f64::max);
            let full = valid().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                let d = wrap180(x - mean);
                (lo.min(d), hi.max(d))
            });
            assert_eq!(
                deviations(&xs, mean, lo_x, hi_x),
                full,
                "{xs:?} around {mean}"
            );
            let (a, b) = ((lo_x - mean) + 180.0, (hi_x - mean) + 180.0);
            let shortcut = (0.0..360.0).contains(&a) && (0.0..360.0).contains(&b);
            shortcuts += shortcut as usize;
            within_a_turn += (!shortcut && a >= -360.0 && b < 720.0) as usize;
        }
        assert!(shortcuts > 5_000 && shortcuts < 20_000, "{shortcuts}");
        assert!(
            within_a_turn > 2_000 && shortcuts + within_a_turn < 19_000,
            "{within_a_turn}"
        );
    }

    #[test]
    fn windows_side_by_side_and_every_processor_give_the_same_numbers() {
        // Four windows at a time (the regular path) against one at a time,
        // and the AVX-512 and AVX2 builds against the baseline one (those
        // this processor has): bit for bit, over
        // windows around north, spread, all equal, with NaN, beyond the
        // reduction and cancelling.
        let mut next = test_numbers(0xd1b5_4a32_d192_ed03u64);
        let bits = |a: &Acc| [a.n as f64, a.mean, a.min, a.max, a.std].map(f64::to_bits);
        let mut scratch = Vec::new();
        for w in [1usize, 2, 7, 10, 33, 60] {
            for round in 0..400 {
                let block: Vec<f64> = (0..4 * w)
                    .map(|k| {
                        let centre = [0.0, 180.0, 359.0, 90.0][(k / w + round) % 4];
                        match (round + k) % 23 {
                            0 => f64::NAN,
                            1 if round % 7 == 0 => 2e15,
                            _ if round % 11 == 0 => centre,
                            _ if round % 13 == 0 => [0.0, 180.0][k % 2],
                            _ => centre + (next() - 0.5) * [10.0, 90.0, 400.0][round % 3],
                        }
                    })
                    .collect();
                for want_std in [true, false] {
                    let mut builds: Vec<[Acc; 4]> = vec![
                        circular_lanes(&block, w, want_std, &mut scratch),
                        circular_lanes_body(&block, w, want_std, &mut scratch),
                    ];
                    #[cfg(target_arch = "x86_64")]
                    {
                        if std::arch::is_x86_feature_detected!("avx512f") {
                            // SAFETY: checked just above.
                            builds.push(unsafe {
                                circular_lanes_avx512(&block, w, want_std, &mut scratch)
                            });
                        }
                        if std::arch::is_x86_feature_detected!("avx2") {
                            // SAFETY: checked just above.
                            builds.push(unsafe {
                                circular_lanes_avx2(&block, w, want_std, &mut scratch)
                            });
                        }
                    }
                    for l in 0..4 {
                        let xs = &block[l * w..(l + 1) * w];
                        let one = circular(xs, want_std);
                        for build in &builds {
                            assert_eq!(bits(&build[l]), bits(&one), "{xs:?}");
                        }
                    }
                }
            }
        }
    }
}
