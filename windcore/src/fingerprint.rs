//! Fingerprints of the source samples of a (day, asset): what an incremental
//! run compares to decide whether a pair must be recomputed.
//!
//! A fingerprint is order-independent: per row a 64-bit hash of the
//! timestamp and every variable's value (NULL and NaN included, each
//! distinguishable), combined over the rows by count, XOR and wrapping sum.
//! A PostgreSQL source computes the same kind of summary in the database
//! (with PostgreSQL's hash functions), so checking a day for changes costs
//! one aggregate query and no transfer of samples.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::error::Result;
use crate::frame;
use crate::schema::{ASSET, TIMESTAMP};

/// Fingerprints of one day's source samples, per asset (`""` for a source
/// with one asset).
pub type Fingerprints = BTreeMap<String, String>;

/// splitmix64's finaliser: a fast, well-mixing 64-bit hash.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The fingerprints of `df` (a `timestamp` column, an optional `asset`
/// column and the `variables`), per asset.
pub fn of_frame(df: &DataFrame, variables: &[String]) -> Result<Fingerprints> {
    let n = df.height();
    let (unit, ts) = frame::time_values(frame::column(df, TIMESTAMP)?)?;
    let mut rows: Vec<u64> = ts
        .iter()
        .map(|t| mix(frame::micros_of(unit, t.unwrap_or(i64::MIN)) as u64))
        .collect();
    for (k, v) in variables.iter().enumerate() {
        let c = df.column(v)?.cast(&DataType::Float64)?;
        let c = c.f64()?;
        let seed = mix(k as u64 + 1);
        for (h, x) in rows.iter_mut().zip(c.iter()) {
            // NULL gets its own value; NaN keeps its bits.
            let bits = x.map_or(0x7ff8_dead_beef_0001, f64::to_bits);
            *h ^= mix(bits ^ seed);
        }
    }
    let assets = match df.column(ASSET) {
        Ok(a) => Some(a.cast(&DataType::String)?.str()?.rechunk().into_owned()),
        Err(_) => None,
    };
    let mut acc: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    let mut last: Option<(String, (u64, u64, u64))> = None;
    for (i, h) in rows.into_iter().enumerate().take(n) {
        let asset = assets.as_ref().and_then(|a| a.get(i)).unwrap_or("");
        // Rows usually come grouped by asset: keep the current one at hand.
        if last.as_ref().is_none_or(|(a, _)| a != asset) {
            if let Some((a, v)) = last.take() {
                let e = acc.entry(a).or_default();
                e.0 += v.0;
                e.1 ^= v.1;
                e.2 = e.2.wrapping_add(v.2);
            }
            last = Some((asset.to_string(), (0, 0, 0)));
        }
        let v = &mut last.as_mut().expect("set above").1;
        v.0 += 1;
        v.1 ^= h;
        v.2 = v.2.wrapping_add(h);
    }
    if let Some((a, v)) = last.take() {
        let e = acc.entry(a).or_default();
        e.0 += v.0;
        e.1 ^= v.1;
        e.2 = e.2.wrapping_add(v.2);
    }
    Ok(acc
        .into_iter()
        .map(|(a, (n, x, s))| (a, format!("f:{n}:{x:016x}:{s:016x}")))
        .collect())
}

/// The row count a fingerprint was made of (both kinds, the frame's
/// `f:<rows>:…` and PostgreSQL's `pg:<rows>:…`).
pub(crate) fn rows_of(fingerprint: &str) -> Option<u64> {
    fingerprint.split(':').nth(1)?.parse().ok()
}

/// A short, stable hash of a text (FNV-1a, 64 bits), for the run settings
/// that are part of every fingerprint.
pub fn text_hash(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(assets: &[&str], ts: &[i64], x: &[Option<f64>]) -> DataFrame {
        let t = Int64Chunked::from_vec(TIMESTAMP.into(), ts.to_vec())
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        DataFrame::new_infer_height(vec![
            Column::new(ASSET.into(), assets.to_vec()),
            t.into_series().into(),
            Column::new("x".into(), x.to_vec()),
        ])
        .unwrap()
    }

    #[test]
    fn order_independent_and_sensitive_to_every_change() {
        let v = ["x".to_string()];
        let a = of_frame(
            &frame(&["A", "B", "A"], &[1, 1, 2], &[Some(1.0), Some(2.0), None]),
            &v,
        )
        .unwrap();
        let b = of_frame(
            &frame(&["A", "A", "B"], &[2, 1, 1], &[None, Some(1.0), Some(2.0)]),
            &v,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
        for changed in [
            frame(
                &["A", "B", "A"],
                &[1, 1, 2],
                &[Some(1.0), Some(2.0), Some(0.0)],
            ),
            frame(&["A", "B", "A"], &[1, 1, 3], &[Some(1.0), Some(2.0), None]),
            frame(
                &["A", "B", "A"],
                &[1, 1, 2],
                &[Some(1.0), Some(2.0), Some(f64::NAN)],
            ),
        ] {
            let c = of_frame(&changed, &v).unwrap();
            assert_ne!(c["A"], a["A"]);
            assert_eq!(c["B"], a["B"]);
        }
        assert_ne!(text_hash("a"), text_hash("b"));
    }
}
