//! Key columns as numbers: a number per distinct key for each row, in order
//! of first appearance, found on every core.

use std::sync::atomic::{AtomicUsize, Ordering};

use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;
use rayon::prelude::*;

use crate::error::Result;

/// One key value, for telling runs of keys apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum KeyVal {
    Null,
    Int(i64),
    Str(String),
}

/// A key column as comparable values. Integer keys keep their type (no
/// copy); the rarer integer types are read as Int64.
pub(super) enum KeyCol {
    I64(Int64Chunked),
    I32(Int32Chunked),
    U32(UInt32Chunked),
    Str(StringChunked),
}

impl KeyCol {
    pub(super) fn new(col: &Column) -> Result<Self> {
        Ok(match col.dtype() {
            DataType::String => KeyCol::Str(col.str()?.clone()),
            DataType::Int32 => KeyCol::I32(col.i32()?.clone()),
            DataType::UInt32 => KeyCol::U32(col.u32()?.clone()),
            _ => KeyCol::I64(
                col.as_materialized_series()
                    .cast(&DataType::Int64)?
                    .i64()?
                    .clone(),
            ),
        })
    }

    pub(super) fn get(&self, i: usize) -> KeyVal {
        let int = |v: Option<i64>| v.map_or(KeyVal::Null, KeyVal::Int);
        match self {
            KeyCol::I64(c) => int(c.get(i)),
            KeyCol::I32(c) => int(c.get(i).map(i64::from)),
            KeyCol::U32(c) => int(c.get(i).map(i64::from)),
            KeyCol::Str(c) => c
                .get(i)
                .map_or(KeyVal::Null, |s| KeyVal::Str(s.to_string())),
        }
    }

    /// Rows `offset..offset + len`.
    fn slice(&self, offset: usize, len: usize) -> Self {
        let o = offset as i64;
        match self {
            KeyCol::I64(c) => KeyCol::I64(c.slice(o, len)),
            KeyCol::I32(c) => KeyCol::I32(c.slice(o, len)),
            KeyCol::U32(c) => KeyCol::U32(c.slice(o, len)),
            KeyCol::Str(c) => KeyCol::Str(c.slice(o, len)),
        }
    }

    /// A number per distinct value (null included) for each row, written to
    /// `ids`, in order of first appearance; returns the first row of each.
    /// Keys come in runs more often than not: a row equal to its
    /// predecessor reuses its number.
    fn numbers(&self, ids: &mut [u32]) -> Vec<usize> {
        let mut firsts: Vec<usize> = Vec::new();
        let mut new_id = |row: usize| {
            firsts.push(row);
            (firsts.len() - 1) as u32
        };
        match self {
            KeyCol::I64(c) => number_ints(c, ids, &mut new_id),
            KeyCol::I32(c) => number_ints(c, ids, &mut new_id),
            KeyCol::U32(c) => number_ints(c, ids, &mut new_id),
            KeyCol::Str(c) => {
                // A string of up to 12 bytes is its view (length and bytes,
                // zero-padded): equal views, equal strings. Longer ones (and
                // nulls) go by their text.
                let mut inline: PlHashMap<u128, u32> = PlHashMap::default();
                let mut long: PlHashMap<Option<&str>, u32> = PlHashMap::default();
                // Keys interleaved row by row (a farm export in time order)
                // defeat the run: a small direct-mapped cache of inline views
                // answers most rows before the hash map is asked.
                const SLOTS: usize = 1024;
                let mut cache: Vec<(u128, u32)> = vec![(u128::MAX, 0); SLOTS];
                let slot = |bits: u128| {
                    let x = (bits as u64) ^ ((bits >> 64) as u64).rotate_left(29);
                    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize
                };
                let mut row = 0;
                for arr in c.downcast_iter() {
                    let views = arr.views().as_slice();
                    let has_nulls = polars_arrow::array::Array::null_count(arr) > 0;
                    let mut last: Option<(u128, u32)> = None;
                    for (i, view) in views.iter().enumerate() {
                        let bits = view.as_u128();
                        let valid = !has_nulls || polars_arrow::array::Array::is_valid(arr, i);
                        let id = match last {
                            Some((lb, id)) if valid && lb == bits => id,
                            _ if valid && view.length <= 12 => {
                                let s = slot(bits);
                                if cache[s].0 == bits {
                                    cache[s].1
                                } else {
                                    let id = *inline.entry(bits).or_insert_with(|| new_id(row + i));
                                    cache[s] = (bits, id);
                                    id
                                }
                            }
                            _ => {
                                // SAFETY: `i` is in bounds of this array.
                                let text = valid.then(|| unsafe { arr.value_unchecked(i) });
                                *long.entry(text).or_insert_with(|| new_id(row + i))
                            }
                        };
                        last = valid.then_some((bits, id));
                        ids[row + i] = id;
                    }
                    row += arr.len();
                }
            }
        }
        firsts
    }

    /// [`numbers`](Self::numbers) of all rows, on every core: each block of
    /// rows numbers its keys, then the blocks' numbers become one numbering
    /// (in order of first appearance, block after block).
    fn numbers_par(&self) -> (Vec<u32>, Vec<usize>) {
        let n = self.len();
        let mut ids = vec![0u32; n];
        let blocks = rayon::current_num_threads() * 4;
        if n < 1 << 20 || blocks < 2 {
            let firsts = self.numbers(&mut ids);
            return (ids, firsts);
        }
        let block_len = n.div_ceil(blocks);
        let local: Vec<Vec<usize>> = ids
            .par_chunks_mut(block_len)
            .enumerate()
            .map(|(b, out)| self.slice(b * block_len, out.len()).numbers(out))
            .collect();
        let mut global: PlHashMap<KeyVal, u32> = PlHashMap::default();
        let mut firsts: Vec<usize> = Vec::new();
        let maps: Vec<Vec<u32>> = local
            .iter()
            .enumerate()
            .map(|(b, block_firsts)| {
                block_firsts
                    .iter()
                    .map(|&r| {
                        let row = b * block_len + r;
                        *global.entry(self.get(row)).or_insert_with(|| {
                            firsts.push(row);
                            (firsts.len() - 1) as u32
                        })
                    })
                    .collect()
            })
            .collect();
        ids.par_chunks_mut(block_len)
            .zip(&maps)
            .for_each(|(out, map)| out.iter_mut().for_each(|id| *id = map[*id as usize]));
        (ids, firsts)
    }

    fn len(&self) -> usize {
        match self {
            KeyCol::I64(c) => c.len(),
            KeyCol::I32(c) => c.len(),
            KeyCol::U32(c) => c.len(),
            KeyCol::Str(c) => c.len(),
        }
    }
}

impl KeyCol {
    /// The rows of `lo..hi` where a run of equal keys starts (`lo` first):
    /// each row whose key differs from the row before. Different keys never
    /// share a run. Gives up (None) once `found`, the runs found so far by
    /// every caller, passes `limit`.
    pub(super) fn run_starts(
        &self,
        lo: usize,
        hi: usize,
        found: &AtomicUsize,
        limit: usize,
    ) -> Option<Vec<usize>> {
        let mut starts = RunStarts {
            rows: Vec::new(),
            unreported: 0,
            found,
            limit,
        };
        let part = self.slice(lo, hi - lo);
        let mut row = lo;
        match &part {
            KeyCol::I64(c) => starts_of_ints(c, &mut row, &mut starts)?,
            KeyCol::I32(c) => starts_of_ints(c, &mut row, &mut starts)?,
            KeyCol::U32(c) => starts_of_ints(c, &mut row, &mut starts)?,
            KeyCol::Str(c) => {
                // Equal views are equal strings; differing views of strings
                // over 12 bytes may still be (the same text stored twice):
                // their text decides.
                let mut prev: Option<(Option<u128>, usize, usize)> = None;
                for (ci, arr) in c.downcast_iter().enumerate() {
                    let views = arr.views().as_slice();
                    let validity =
                        polars_arrow::array::Array::validity(arr).filter(|b| b.unset_bits() > 0);
                    for (i, view) in views.iter().enumerate() {
                        let key = valid(validity, i).then(|| view.as_u128());
                        let new = match prev {
                            None => true,
                            Some((p, _, _)) if p == key => false,
                            Some((Some(_), pc, pi)) if key.is_some() && view.length > 12 => {
                                let before = c.downcast_get(pc).expect("a chunk");
                                // SAFETY: `pi` and `i` are in bounds of their arrays.
                                unsafe { before.value_unchecked(pi) != arr.value_unchecked(i) }
                            }
                            _ => true,
                        };
                        if new {
                            starts.push(row + i)?;
                        }
                        prev = Some((key, ci, i));
                    }
                    row += arr.len();
                }
            }
        }
        starts.finish()
    }
}

/// Whether row `i` of an array with `validity` holds a value.
#[inline(always)]
fn valid(validity: Option<&Bitmap>, i: usize) -> bool {
    // SAFETY: a validity bitmap has a bit per row of its array.
    validity.is_none_or(|b| unsafe { b.get_bit_unchecked(i) })
}

/// The run starts [`KeyCol::run_starts`] collects, counted into the shared
/// total 1024 at a time.
struct RunStarts<'a> {
    rows: Vec<usize>,
    unreported: usize,
    found: &'a AtomicUsize,
    limit: usize,
}

impl RunStarts<'_> {
    #[inline]
    fn push(&mut self, row: usize) -> Option<()> {
        self.rows.push(row);
        self.unreported += 1;
        if self.unreported == 1024 {
            self.unreported = 0;
            if self.found.fetch_add(1024, Ordering::Relaxed) + 1024 > self.limit {
                return None;
            }
        }
        Some(())
    }

    fn finish(self) -> Option<Vec<usize>> {
        let total = self.found.fetch_add(self.unreported, Ordering::Relaxed) + self.unreported;
        (total <= self.limit).then_some(self.rows)
    }
}

/// [`KeyCol::run_starts`] of integer keys from `row` on (advanced past them).
fn starts_of_ints<T: PolarsNumericType>(
    c: &ChunkedArray<T>,
    row: &mut usize,
    starts: &mut RunStarts<'_>,
) -> Option<()> {
    let mut prev: Option<Option<T::Native>> = None;
    for arr in c.downcast_iter() {
        let vals = arr.values().as_slice();
        let validity = arr.validity().filter(|b| b.unset_bits() > 0);
        for (i, v) in vals.iter().enumerate() {
            let key = valid(validity, i).then_some(*v);
            if prev != Some(key) {
                starts.push(*row + i)?;
                prev = Some(key);
            }
        }
        *row += arr.len();
    }
    Some(())
}

/// [`KeyCol::numbers`] of integer keys; `new_id(row)` numbers a key first
/// seen at `row`.
fn number_ints<T>(c: &ChunkedArray<T>, ids: &mut [u32], new_id: &mut impl FnMut(usize) -> u32)
where
    T: PolarsNumericType,
    T::Native: Into<i64>,
{
    let mut seen: PlHashMap<Option<i64>, u32> = PlHashMap::default();
    // Keys interleaved row by row defeat the run: a small direct-mapped
    // cache answers most rows before the hash map.
    const SLOTS: usize = 1024;
    const EMPTY: u32 = u32::MAX;
    let mut cache: Vec<(i64, u32)> = vec![(0, EMPTY); SLOTS];
    let slot = |x: i64| ((x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize;
    let mut last: Option<(Option<i64>, u32)> = None;
    for (row, v) in c.iter().enumerate() {
        let v: Option<i64> = v.map(Into::into);
        let id = match (last, v) {
            (Some((lv, id)), _) if lv == v => id,
            (_, Some(x)) => {
                let s = slot(x);
                if cache[s].1 != EMPTY && cache[s].0 == x {
                    cache[s].1
                } else {
                    let id = *seen.entry(v).or_insert_with(|| new_id(row));
                    cache[s] = (x, id);
                    id
                }
            }
            (_, None) => *seen.entry(None).or_insert_with(|| new_id(row)),
        };
        last = Some((v, id));
        ids[row] = id;
    }
}

/// A number per distinct key (of all `cols` together), for each of the `n`
/// rows, numbered in order of first appearance; and the first row of each.
pub(super) fn key_numbers(cols: &[KeyCol], n: usize) -> (Vec<u32>, Vec<usize>) {
    let mut ids: Vec<u32> = Vec::new();
    let mut firsts: Vec<usize> = Vec::new();
    for (c, col) in cols.iter().enumerate() {
        let (col_ids, col_firsts) = col.numbers_par();
        if c == 0 {
            (ids, firsts) = (col_ids, col_firsts);
            continue;
        }
        // Pairs of (keys so far, this column's number), numbered anew.
        let mut pairs: PlHashMap<(u32, u32), u32> = PlHashMap::default();
        let mut pair_firsts = Vec::new();
        for (row, (id, cid)) in ids.iter_mut().zip(col_ids).enumerate() {
            *id = *pairs.entry((*id, cid)).or_insert_with(|| {
                pair_firsts.push(row);
                (pair_firsts.len() - 1) as u32
            });
        }
        firsts = pair_firsts;
    }
    debug_assert_eq!(ids.len(), n);
    (ids, firsts)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Key values of `n` rows: interleaved names (up to and over 12 bytes),
    /// nulls, and a name that first appears late.
    pub(in crate::resample) fn names(n: usize) -> Vec<Option<String>> {
        (0..n)
            .map(|i| match i % 7 {
                0 => None,
                1 if i > n / 2 => Some("late".to_string()),
                k => Some(if k % 2 == 0 {
                    format!("T{k:02}")
                } else {
                    format!("a turbine name of over twelve bytes {k}")
                }),
            })
            .collect()
    }

    #[test]
    fn numbering_in_blocks_equals_numbering_in_one_pass() {
        // Over 1 Mi rows: numbered block by block on every core.
        let n = (1 << 20) + 12_345;
        let strs = KeyCol::Str(StringChunked::from_iter_options(
            "k".into(),
            names(n).into_iter(),
        ));
        let int = |i: usize| (!i.is_multiple_of(11)).then_some(((i * 7919) % 13) as i64);
        let i64s = KeyCol::I64(Int64Chunked::from_iter_options("k".into(), (0..n).map(int)));
        let i32s = KeyCol::I32(Int32Chunked::from_iter_options(
            "k".into(),
            (0..n).map(|i| int(i).map(|v| v as i32 - 6)),
        ));
        let u32s = KeyCol::U32(UInt32Chunked::from_iter_options(
            "k".into(),
            (0..n).map(|i| int(i).map(|v| v as u32 + 4_000_000_000)),
        ));
        for col in [strs, i64s, i32s, u32s] {
            let mut one = vec![0u32; n];
            let firsts = col.numbers(&mut one);
            // Both equal numbering by first appearance, done plainly.
            let mut seen: std::collections::HashMap<KeyVal, u32> = Default::default();
            let plain: Vec<u32> = (0..n)
                .map(|r| {
                    let next = seen.len() as u32;
                    *seen.entry(col.get(r)).or_insert(next)
                })
                .collect();
            assert_eq!(one, plain);
            assert_eq!(col.numbers_par(), (one, firsts));
        }
    }
}
