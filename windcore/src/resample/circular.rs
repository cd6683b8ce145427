//! Circular statistics of angles in degrees.

use super::kernel::Acc;

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
/// [`sin_cos_deg`]); a second finds the deviations from the mean.
pub(super) fn circular(xs: &[f64], want_std: bool) -> Acc {
    let (mut n, mut s, mut c) = (0usize, 0.0, 0.0);
    let (mut lo_x, mut hi_x) = (f64::INFINITY, f64::NEG_INFINITY);
    // The sines and cosines a block at a time (a loop without a branch or
    // a sum, which the compiler runs several lanes wide), then summed in
    // order.
    const BLOCK: usize = 32;
    let (mut sins, mut coss) = ([0.0; BLOCK], [0.0; BLOCK]);
    for part in xs.chunks(BLOCK) {
        let m = part.len();
        sin_cos_block(part, &mut sins[..m], &mut coss[..m]);
        for ((&x, &sin), &cos) in part.iter().zip(&sins[..m]).zip(&coss[..m]) {
            let ok = !x.is_nan();
            n += ok as usize;
            s += if ok { sin } else { 0.0 };
            c += if ok { cos } else { 0.0 };
            lo_x = if x < lo_x { x } else { lo_x };
            hi_x = if x > hi_x { x } else { hi_x };
        }
    }
    if n == 0 {
        return Acc::empty(0);
    }
    if lo_x == hi_x {
        let m = norm360(lo_x);
        let std = if want_std && n >= 2 { 0.0 } else { f64::NAN };
        return Acc::moments(n, m, m, m, std, f64::NAN);
    }
    if lo_x < -1e15 || hi_x > 1e15 {
        (s, c) = libm_sin_cos_sums(xs);
    }
    let r = (s * s + c * c).sqrt() / n as f64;
    if r < MIN_RESULTANT {
        return Acc::empty(n);
    }
    let mean = norm360(s.atan2(c).to_degrees());
    let (lo, hi) = deviations(xs, mean, lo_x, hi_x);
    let std = if want_std && n >= 2 {
        (-2.0 * r.min(1.0).ln()).sqrt().to_degrees()
    } else {
        f64::NAN
    };
    Acc::moments(
        n,
        mean,
        norm360(mean + lo),
        norm360(mean + hi),
        std,
        f64::NAN,
    )
}

/// The sines and cosines of the angles in degrees of `xs` (NaN: those of 0).
#[inline(always)]
fn sin_cos_block(xs: &[f64], sins: &mut [f64], coss: &mut [f64]) {
    for ((x, sin), cos) in xs.iter().zip(sins).zip(coss) {
        (*sin, *cos) = sin_cos_deg(if x.is_nan() { 0.0 } else { *x });
    }
}

/// The most negative and most positive deviation `wrap180(x - mean)` of the
/// angles `xs` (NaN left out), whose least and greatest are `lo_x` and `hi_x`.
///
/// Where neither of those needs a turn added or taken away (all of `xs`
/// within 180° of the mean either way, the usual window), `wrap180` is
/// `(x - mean + 180) - 180` for every angle between them, which rounding
/// keeps monotonic: the extremes are those of `lo_x` and `hi_x`, exactly,
/// without a second pass over the window.
#[inline]
fn deviations(xs: &[f64], mean: f64, lo_x: f64, hi_x: f64) -> (f64, f64) {
    let (a, b) = ((lo_x - mean) + 180.0, (hi_x - mean) + 180.0);
    if (0.0..360.0).contains(&a) && (0.0..360.0).contains(&b) {
        return (wrap180(lo_x - mean), wrap180(hi_x - mean));
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

/// The sums of the sines and cosines of the angles in degrees of `xs` (no
/// NaN), as [`circular`] sums them.
#[cfg(test)]
fn sum_sin_cos_deg(xs: &[f64]) -> (f64, f64) {
    if xs.iter().any(|x| x.abs() > 1e15) {
        return libm_sin_cos_sums(xs);
    }
    xs.iter().fold((0.0, 0.0), |(s, c), &x| {
        let (sin, cos) = sin_cos_deg(x);
        (s + sin, c + cos)
    })
}

/// The sums of the sines and cosines (libm's) of the angles in degrees of
/// `xs`, NaN left out.
fn libm_sin_cos_sums(xs: &[f64]) -> (f64, f64) {
    xs.iter()
        .filter(|x| !x.is_nan())
        .fold((0.0, 0.0), |(s, c), x| {
            let (sin, cos) = x.to_radians().sin_cos();
            (s + sin, c + cos)
        })
}

/// The sine and cosine of `x` degrees, `|x| <= 1e15`.
///
/// The angle is reduced to the nearest multiple of 90° exactly (in degrees,
/// where the reduction is exact), and the remainder's sine and cosine on
/// [-45°, 45°] come from the minimax polynomials of FreeBSD's `k_sin.c` /
/// `k_cos.c` (error below 2^-58 on [-π/4, π/4]): about 1 ulp in all, against
/// libm's 0.5 to 1, with no branch, so the loop runs several angles at once.
/// A direction a whole quarter turn apart from another gets exactly the
/// swapped or negated sine and cosine (350° is exactly -10°).
/// Angles beyond ±1e15° (nonsense for a direction, where the reduction
/// would lose the remainder) use libm instead.
// (The coefficients are written as published, digits beyond f64 included.)
#[allow(clippy::excessive_precision)]
#[inline(always)]
fn sin_cos_deg(x: f64) -> (f64, f64) {
    // Round to the nearest integer (ties to even) by adding and removing
    // 1.5 * 2^52: no call to `round`, which baseline x86-64 lacks. The sum's
    // last bits are then those of the integer q (two's complement): its
    // quarter turn, without a conversion to an integer.
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let t = x * (1.0 / 90.0) + ROUND;
    let q = t - ROUND;
    let quarter = t.to_bits() & 3;
    // Exact: q * 90 is exact and within a factor 2 of x (or r is x).
    let r = (x - q * 90.0) * (std::f64::consts::PI / 180.0);
    let z = r * r;
    let w = z * z;
    // k_sin.c
    const S1: f64 = -1.666_666_666_666_663_243_48e-1;
    const S2: f64 = 8.333_333_333_322_489_461_24e-3;
    const S3: f64 = -1.984_126_982_985_794_931_34e-4;
    const S4: f64 = 2.755_731_370_707_006_767_89e-6;
    const S5: f64 = -2.505_076_025_340_686_341_95e-8;
    const S6: f64 = 1.589_690_995_211_550_102_21e-10;
    let sr = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    let sin = r + z * r * (S1 + z * sr);
    // k_cos.c
    const C1: f64 = 4.166_666_666_666_660_190_37e-2;
    const C2: f64 = -1.388_888_888_887_410_957_49e-3;
    const C3: f64 = 2.480_158_728_947_672_941_78e-5;
    const C4: f64 = -2.755_731_435_139_066_330_35e-7;
    const C5: f64 = 2.087_572_321_298_174_827_90e-9;
    const C6: f64 = -1.135_964_755_778_819_482_65e-11;
    let cr = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    let hz = 0.5 * z;
    let one_hz = 1.0 - hz;
    let cos = one_hz + (((1.0 - one_hz) - hz) + z * cr);
    // The quarter turns: (sin, cos) of x = rotations of those of r, without
    // a branch (the quarter of a direction is not predictable): an odd
    // quarter swaps them, quarters 2 and 3 negate the sine, 1 and 2 the
    // cosine (sign bits flipped).
    let swap = 0u64.wrapping_sub(quarter & 1);
    let (sin, cos) = (sin.to_bits(), cos.to_bits());
    let a = (sin & !swap) | (cos & swap);
    let b = (cos & !swap) | (sin & swap);
    let neg_s = (quarter & 2) << 62;
    let neg_c = ((quarter + 1) & 2) << 62;
    (f64::from_bits(a ^ neg_s), f64::from_bits(b ^ neg_c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sine_and_cosine_in_degrees_are_within_two_ulp_of_libm() {
        // Every 0.001° over several turns both ways, and awkward points.
        let mut xs: Vec<f64> = (-1_080_000..=1_080_000).map(|k| k as f64 * 0.001).collect();
        xs.extend([
            0.0,
            -0.0,
            45.0,
            -45.0,
            89.999999999,
            90.0,
            135.0,
            180.0,
            270.0,
            359.999999,
            1e9 + 0.5,
            -7.3e12,
        ]);
        for x in xs {
            let (s, c) = sin_cos_deg(x);
            let (ls, lc) = x.to_radians().sin_cos();
            // libm's own argument, x.to_radians(), is off by up to half an ulp
            // of x * π / 180: compare within that plus 2 ulp of the result.
            let slack = (x * std::f64::consts::PI / 180.0).abs() * f64::EPSILON;
            for (got, want) in [(s, ls), (c, lc)] {
                let tol = 2.0 * f64::EPSILON * want.abs().max(f64::MIN_POSITIVE) + slack + 1e-300;
                assert!(
                    (got - want).abs() <= tol.max(2.0 * f64::EPSILON),
                    "{x}: {got} vs {want}"
                );
            }
        }
        // Quarter turns apart (values whose sums are exact): exactly rotated.
        for x in [10.0, 33.25, 44.875] {
            let (s, c) = sin_cos_deg(x);
            assert_eq!(sin_cos_deg(x + 90.0), (c, -s));
            assert_eq!(sin_cos_deg(x - 360.0), (s, c));
            assert_eq!(sin_cos_deg(-x), (-s, c));
        }
        assert_eq!(sin_cos_deg(350.0).0, -sin_cos_deg(10.0).0);
    }

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
        assert_eq!(mean, norm360(s.atan2(c).to_degrees()));
        // All equal: that angle exactly, spread 0.
        let same = circular(&[f64::NAN, 370.25, 370.25], true);
        assert_eq!(
            [same.mean, same.min, same.max, same.std],
            [10.25, 10.25, 10.25, 0.0]
        );
    }

    #[test]
    fn the_extremes_of_a_window_within_half_a_turn_equal_the_full_pass() {
        // Random windows, some around north (a turn between their angles),
        // some spread over more than half a turn, some with values beyond
        // [0, 360): the shortcut gives exactly what every deviation gives.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut shortcuts = 0;
        for w in 0..20_000 {
            let centre = next() * 360.0 - if w % 5 == 0 { 720.0 } else { 0.0 };
            let spread = [1.0, 30.0, 179.0, 200.0, 400.0][w % 5];
            let xs: Vec<f64> = (0..10).map(|_| centre + (next() - 0.5) * spread).collect();
            let mean = norm360(centre + (next() - 0.5) * 2.0);
            let lo_x = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi_x = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let full = xs
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                    let d = wrap180(x - mean);
                    (lo.min(d), hi.max(d))
                });
            assert_eq!(
                deviations(&xs, mean, lo_x, hi_x),
                full,
                "{xs:?} around {mean}"
            );
            let (a, b) = ((lo_x - mean) + 180.0, (hi_x - mean) + 180.0);
            shortcuts += ((0.0..360.0).contains(&a) && (0.0..360.0).contains(&b)) as usize;
        }
        assert!(shortcuts > 5_000 && shortcuts < 20_000, "{shortcuts}");
    }

    #[test]
    fn directions_beyond_the_reduction_use_libm() {
        let xs = [1e16, 3.0];
        let (s, c) = sum_sin_cos_deg(&xs);
        let want = xs.iter().fold((0.0, 0.0), |(s, c), x| {
            let (a, b) = x.to_radians().sin_cos();
            (s + a, c + b)
        });
        assert_eq!((s, c), want);
    }
}
