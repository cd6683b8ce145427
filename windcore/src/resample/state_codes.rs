//! The codes of a state channel: its distinct values in output order, and
//! each row's code, found on every core.

use std::collections::HashMap;

use polars::prelude::*;
use rayon::prelude::*;

use super::keys::Permutation;
use super::prepare::{permute_codes, permute_with, RecData};
use crate::availability::state_name;

/// The distinct codes of one state channel, in output order (numbers
/// ascending, texts in byte order), and each row's code (`u32::MAX`: not a
/// sample), per input chunk.
pub(super) struct Codes {
    pub(super) names: Vec<String>,
    pub(super) rows: Vec<Vec<u32>>,
}

/// The codes of a state channel; with a permutation, its rows are in the
/// permuted order, as one chunk.
pub(super) fn codes(data: &RecData, perm: Option<&Permutation>) -> Codes {
    match data {
        RecData::Num(ca) => numeric_codes(ca, |v: f64| v, perm),
        // (An integer code is named as the number it is.)
        RecData::Int(ca) => numeric_codes(ca, |v: i64| v as f64, perm),
        RecData::Text(ca) => {
            let mut c = text_codes(ca);
            if let Some(p) = perm {
                let rows = match c.rows.len() {
                    1 => std::mem::take(&mut c.rows[0]),
                    _ => c.rows.concat(),
                };
                c.rows = vec![permute_codes(&rows, p)];
            }
            c
        }
    }
}

/// The codes of a text state channel, in input order.
fn text_codes(ca: &StringChunked) -> Codes {
    let mut distinct: Vec<&str> = ca.iter().flatten().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let id: HashMap<&str, u32> = distinct
        .iter()
        .enumerate()
        .map(|(i, v)| (*v, i as u32))
        .collect();
    let rows = ca
        .downcast_iter()
        .map(|a| a.iter().map(|v| v.map_or(NONE, |v| id[v])).collect())
        .collect();
    Codes {
        names: distinct.into_iter().map(str::to_string).collect(),
        rows,
    }
}

const NONE: u32 = u32::MAX;

/// The codes of a numeric state channel, whose values are numbers as `as_f64`
/// gives them (-0.0 is 0; NaN and nulls are no sample).
fn numeric_codes<T>(
    ca: &ChunkedArray<T>,
    as_f64: impl Fn(T::Native) -> f64 + Sync,
    perm: Option<&Permutation>,
) -> Codes
where
    T: PolarsNumericType,
{
    const BLOCK: usize = 1 << 16;
    // The distinct codes, kept sorted, found per block of rows on every core
    // (a state channel has few; they come in runs, so the previous value
    // needs no search). Many codes: sorted at once.
    let blocks: Vec<&[T::Native]> = ca
        .downcast_iter()
        .flat_map(|a| a.values().as_slice().chunks(BLOCK))
        .collect();
    let found: Vec<Option<Vec<f64>>> = blocks
        .par_iter()
        .map(|block| {
            let mut distinct: Vec<f64> = Vec::new();
            let mut prev = f64::NAN;
            for &v in *block {
                let v = as_f64(v) + 0.0; // -0.0 is 0
                if v.to_bits() != prev.to_bits() && !v.is_nan() {
                    prev = v;
                    if let Err(at) = distinct.binary_search_by(|d| d.total_cmp(&v)) {
                        distinct.insert(at, v);
                        if distinct.len() > 4096 {
                            return None;
                        }
                    }
                }
            }
            Some(distinct)
        })
        .collect();
    let mut distinct: Vec<f64> = if found.iter().all(Option::is_some) {
        found.into_iter().flatten().flatten().collect()
    } else {
        blocks
            .iter()
            .flat_map(|b| b.iter().map(|v| as_f64(*v) + 0.0))
            .filter(|v| !v.is_nan())
            .collect()
    };
    distinct.sort_unstable_by(f64::total_cmp);
    distinct.dedup_by(|a, b| a.to_bits() == b.to_bits());
    // (A state channel has few codes: a binary search finds one.)
    let id = |v: f64| -> u32 {
        distinct
            .binary_search_by(|d| d.total_cmp(&v))
            .map_or(NONE, |i| i as u32)
    };
    // (A null's value may be anything: its code is none.)
    // (A permutation numbers the rows of the whole column: one chunk.)
    let one = perm.map(|_| ca.rechunk());
    if let (Some(p), Some(a)) = (perm, one.as_ref().and_then(|c| c.downcast_iter().next())) {
        // Coded as they are moved (one chunk): no copy in input order.
        let values = a.values().as_slice();
        let valid = a.validity().filter(|b| b.unset_bits() > 0);
        let code = |i: usize| {
            let v = as_f64(values[i]) + 0.0;
            if v.is_nan() || valid.is_some_and(|m| !m.get_bit(i)) {
                NONE
            } else {
                id(v)
            }
        };
        let rows = vec![permute_with(p, code)];
        return Codes {
            names: distinct.into_iter().map(state_name).collect(),
            rows,
        };
    }
    let rows = ca
        .downcast_iter()
        .map(|a| {
            let values = a.values().as_slice();
            let valid = a.validity().filter(|b| b.unset_bits() > 0);
            let mut out = vec![NONE; values.len()];
            out.par_chunks_mut(BLOCK).enumerate().for_each(|(b, o)| {
                let lo = b * BLOCK;
                let mut prev = (u64::MAX, NONE);
                for (j, slot) in o.iter_mut().enumerate() {
                    let v = as_f64(values[lo + j]) + 0.0;
                    if v.is_nan() || valid.is_some_and(|m| !m.get_bit(lo + j)) {
                        continue;
                    }
                    let bits = v.to_bits();
                    if bits != prev.0 {
                        prev = (bits, id(v));
                    }
                    *slot = prev.1;
                }
            });
            out
        })
        .collect();
    Codes {
        names: distinct.into_iter().map(state_name).collect(),
        rows,
    }
}
