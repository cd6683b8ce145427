//! Trigonometry of directions: the sine and cosine of angles in degrees and
//! `atan2`, written so that loops over many run several side by side, with
//! the same result on every processor.

/// The sines and cosines of the angles in degrees of `xs`; 0 and 0 for NaN
/// (which adds nothing to a sum).
#[inline(always)]
pub(super) fn sin_cos_block(xs: &[f64], sins: &mut [f64], coss: &mut [f64]) {
    for ((x, sin), cos) in xs.iter().zip(sins).zip(coss) {
        let (s, c) = sin_cos_deg(if x.is_nan() { 0.0 } else { *x });
        (*sin, *cos) = if x.is_nan() { (0.0, 0.0) } else { (s, c) };
    }
}

/// The sums of the sines and cosines of the angles in degrees of `xs` (no
/// NaN), as [`circular`](super::circular::circular) sums them.
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
pub(super) fn libm_sin_cos_sums(xs: &[f64]) -> (f64, f64) {
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

/// `atan2(y, x)` in radians, `(x, y) != (0, 0)`, without a branch (so a loop
/// over several runs them side by side): the ratio of the smaller to the
/// larger of |x| and |y|, reduced to [0, 0.66] as Cephes' `atan.c` does,
/// Cephes' rational approximation there (relative error 2.6e-18), and the
/// octant put back. Within 2 ulp of libm's (tested); its value is the same on
/// every processor (no fused multiply-add).
// (The coefficients are written as published, digits beyond f64 included.)
#[allow(clippy::excessive_precision)]
#[inline(always)]
pub(super) fn atan2(y: f64, x: f64) -> f64 {
    const P: [f64; 5] = [
        -8.750_608_600_031_904_122_785e-1,
        -1.615_753_718_733_365_076_637e1,
        -7.500_855_792_314_704_667_340e1,
        -1.228_866_684_490_136_173_410e2,
        -6.485_021_904_942_025_371_773e1,
    ];
    const Q: [f64; 5] = [
        2.485_846_490_142_306_297_962e1,
        1.650_270_098_316_988_542_046e2,
        4.328_810_604_912_902_668_951e2,
        4.853_903_996_359_136_964_868e2,
        1.945_506_571_482_613_964_425e2,
    ];
    // π/4, π/2 and π less their value in f64.
    const MOREBITS: f64 = 6.123_233_995_736_765_886_130e-17;
    use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};
    let (ax, ay) = (x.abs(), y.abs());
    let steep = ay > ax;
    let (lo, hi) = if steep { (ax, ay) } else { (ay, ax) };
    // t = lo / hi in [0, 1]; above 0.66, atan t = π/4 + atan((t - 1) / (t + 1)).
    let big = lo > 0.66 * hi;
    let (num, den) = if big { (lo - hi, lo + hi) } else { (lo, hi) };
    let t = num / den;
    let z = t * t;
    let p = (((P[0] * z + P[1]) * z + P[2]) * z + P[3]) * z + P[4];
    let q = ((((z + Q[0]) * z + Q[1]) * z + Q[2]) * z + Q[3]) * z + Q[4];
    let r = t + t * (z * p / q);
    let a = if big {
        FRAC_PI_4 + (r + 0.5 * MOREBITS)
    } else {
        r
    };
    // The octant: a steep angle from the y axis, a negative x from π.
    let a = if steep { (FRAC_PI_2 - a) + MOREBITS } else { a };
    let a = if x < 0.0 {
        (PI - a) + 2.0 * MOREBITS
    } else {
        a
    };
    if y < 0.0 {
        -a
    } else {
        a
    }
}

/// A seeded stream of numbers in [0, 1) for tests (xorshift64).
#[cfg(test)]
pub(super) fn test_numbers(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
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

    #[test]
    fn atan2_is_within_two_ulp_of_libm() {
        let mut next = test_numbers(0x9e37_79b9_7f4a_7c15u64);
        let mut points: Vec<(f64, f64)> = (0..2_000_000)
            .map(|k| {
                // Every octant, ratios near 0, 0.66 and 1, and scales from
                // a few samples' sums to tiny resultants.
                let scale = [1.0, 600.0, 1e-9, 3e5][k % 4];
                let (a, b) = (next() * 2.0 - 1.0, next() * 2.0 - 1.0);
                match k % 5 {
                    0 => (a * scale, b * scale),
                    1 => (a * 1e-12, b),
                    2 => (a, b * (0.66 + (next() - 0.5) * 1e-6)),
                    3 => (a, a.abs().copysign(b) * (1.0 + (next() - 0.5) * 1e-9)),
                    _ => (a, b * 1e-7),
                }
            })
            .collect();
        for (y, x) in [
            (0.0, 1.0),
            (1.0, 0.0),
            (0.0, -1.0),
            (-1.0, 0.0),
            (1.0, 1.0),
            (-1.0, -1.0),
        ] {
            points.push((y, x));
            points.push((y * 3.5, x * 3.5));
        }
        let mut worst = 0.0f64;
        for (y, x) in points {
            if x == 0.0 && y == 0.0 {
                continue;
            }
            let (got, want) = (atan2(y, x), y.atan2(x));
            let ulp = f64::EPSILON * want.abs().max(f64::MIN_POSITIVE);
            let err = (got - want).abs() / ulp;
            worst = worst.max(err);
            assert!(
                err <= 2.0,
                "atan2({y:e}, {x:e}) = {got:e}, libm {want:e}: {err} ulp"
            );
        }
        eprintln!("atan2: worst {worst} ulp");
        // Axes and diagonals exactly.
        assert_eq!(atan2(0.0, 2.0), 0.0);
        assert_eq!(atan2(2.0, 0.0), std::f64::consts::FRAC_PI_2);
        assert_eq!(atan2(-2.0, 0.0), -std::f64::consts::FRAC_PI_2);
        assert_eq!(atan2(0.0, -2.0), std::f64::consts::PI);
        assert_eq!(atan2(3.0, 3.0), std::f64::consts::FRAC_PI_4);
    }
}
