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

/// Circular statistics of angles in degrees (all valid): the direction of
/// the mean unit vector, `sqrt(-2 ln R)` in degrees, and the mean plus the
/// most negative / positive deviation from it.
pub(super) fn circular(xs: &[f64], want_std: bool) -> Acc {
    let n = xs.len();
    if n == 0 {
        return Acc::empty(0);
    }
    let first = xs[0];
    if xs.iter().all(|x| *x == first) {
        let m = norm360(first);
        let std = if want_std && n >= 2 { 0.0 } else { f64::NAN };
        return Acc::moments(n, m, m, m, std, f64::NAN);
    }
    let (s, c) = sum_sin_cos_deg(xs);
    let r = (s * s + c * c).sqrt() / n as f64;
    if r < MIN_RESULTANT {
        return Acc::empty(n);
    }
    let mean = norm360(s.atan2(c).to_degrees());
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in xs {
        let d = wrap180(x - mean);
        lo = lo.min(d);
        hi = hi.max(d);
    }
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

/// The sums of the sines and cosines of angles in degrees.
///
/// The angle is reduced to the nearest multiple of 90° exactly (in degrees,
/// where the reduction is exact), and the remainder's sine and cosine on
/// [-45°, 45°] come from the minimax polynomials of FreeBSD's `k_sin.c` /
/// `k_cos.c` (error below 2^-58 on [-π/4, π/4]): about 1 ulp in all, against
/// libm's 0.5 to 1, with no branch, so the loop runs several angles at once.
/// A direction a whole quarter turn apart from another gets exactly the
/// swapped or negated sine and cosine (350° is exactly -10°).
/// Angles beyond ±1e15° (nonsense for a direction, where the reduction
/// would lose the remainder) use libm.
pub(super) fn sum_sin_cos_deg(xs: &[f64]) -> (f64, f64) {
    if xs.iter().any(|x| x.abs() > 1e15) {
        return xs.iter().fold((0.0, 0.0), |(s, c), x| {
            let (sin, cos) = x.to_radians().sin_cos();
            (s + sin, c + cos)
        });
    }
    let (mut s, mut c) = (0.0, 0.0);
    for &x in xs {
        let (sin, cos) = sin_cos_deg(x);
        s += sin;
        c += cos;
    }
    (s, c)
}

/// The sine and cosine of `x` degrees, `|x| <= 1e15` (see [`sum_sin_cos_deg`]).
// (The coefficients are written as published, digits beyond f64 included.)
#[allow(clippy::excessive_precision)]
#[inline(always)]
fn sin_cos_deg(x: f64) -> (f64, f64) {
    // Round to the nearest integer (ties to even) by adding and removing
    // 1.5 * 2^52: no call to `round`, which baseline x86-64 lacks.
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let q = (x * (1.0 / 90.0) + ROUND) - ROUND;
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
    // The quarter turns: (sin, cos) of x = rotations of those of r.
    let quarter = (q as i64) & 3;
    let (swap, neg_s, neg_c) = match quarter {
        0 => (false, false, false),
        1 => (true, false, true),
        2 => (false, true, true),
        _ => (true, true, false),
    };
    let (a, b) = if swap { (cos, sin) } else { (sin, cos) };
    (if neg_s { -a } else { a }, if neg_c { -b } else { b })
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
