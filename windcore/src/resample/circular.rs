//! Circular statistics of angles in degrees.

use super::kernel::Acc;

/// Below this length of the mean unit vector the directions cancel and have
/// no mean.
const MIN_RESULTANT: f64 = 1e-9;

/// `x` taken into `[0, 360)`.
#[inline]
fn norm360(x: f64) -> f64 {
    let r = x.rem_euclid(360.0);
    // rem_euclid can round up to 360.0 for tiny negative x.
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
    // result is plain: x itself in [0, 360), x - 360 (exact there) in [360, 720).
    let r = if (0.0..360.0).contains(&x) {
        x
    } else if (360.0..720.0).contains(&x) {
        x - 360.0
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
    let (mut s, mut c) = (0.0, 0.0);
    for x in xs {
        let (sin, cos) = x.to_radians().sin_cos();
        s += sin;
        c += cos;
    }
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
