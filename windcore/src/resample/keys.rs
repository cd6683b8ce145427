//! Rows per key: the runs of rows of one key read in place, or the
//! permutation that sorts the input by key and time.

use polars::prelude::*;
use rayon::prelude::*;

use super::prepare::ts_slice;
use crate::error::Result;

/// Rows `lo..hi` of input chunk `chunk` (of the prepared columns), all of one
/// key and in time order.
#[derive(Debug, Clone, Copy)]
pub(super) struct Run {
    pub(super) chunk: usize,
    pub(super) lo: usize,
    pub(super) hi: usize,
}

/// The rows of one key: the prepared runs `first..first + len`, which follow
/// each other in time, and the row of the key columns that holds its values.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    pub(super) first: usize,
    pub(super) len: usize,
    pub(super) key_row: IdxSize,
}

/// One key value, for telling runs of keys apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyVal {
    Null,
    Int(i64),
    Str(String),
}

/// The key columns as comparable values.
enum KeyCol {
    Int(Int64Chunked),
    Str(StringChunked),
}

impl KeyCol {
    fn new(col: &Column) -> Result<Self> {
        Ok(if matches!(col.dtype(), DataType::String) {
            KeyCol::Str(col.str()?.clone())
        } else {
            KeyCol::Int(
                col.as_materialized_series()
                    .cast(&DataType::Int64)?
                    .i64()?
                    .clone(),
            )
        })
    }

    fn get(&self, i: usize) -> KeyVal {
        match self {
            KeyCol::Int(c) => c.get(i).map_or(KeyVal::Null, KeyVal::Int),
            KeyCol::Str(c) => c
                .get(i)
                .map_or(KeyVal::Null, |s| KeyVal::Str(s.to_string())),
        }
    }

    /// A number per distinct value (null included) for each row, in order
    /// of first appearance, and the first row of each. Keys come in runs
    /// more often than not: a row equal to its predecessor reuses its number.
    fn numbers(&self) -> (Vec<u32>, Vec<usize>) {
        let mut ids = Vec::with_capacity(self.len());
        let mut firsts: Vec<usize> = Vec::new();
        let mut new_id = |row: usize| {
            firsts.push(row);
            (firsts.len() - 1) as u32
        };
        match self {
            KeyCol::Int(c) => {
                let mut seen: PlHashMap<Option<i64>, u32> = PlHashMap::default();
                let mut last: Option<(Option<i64>, u32)> = None;
                for (row, v) in c.iter().enumerate() {
                    let id = match last {
                        Some((lv, id)) if lv == v => id,
                        _ => *seen.entry(v).or_insert_with(|| new_id(row)),
                    };
                    last = Some((v, id));
                    ids.push(id);
                }
            }
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
                        ids.push(id);
                    }
                    row += arr.len();
                }
            }
        }
        (ids, firsts)
    }

    fn len(&self) -> usize {
        match self {
            KeyCol::Int(c) => c.len(),
            KeyCol::Str(c) => c.len(),
        }
    }
}

/// The most runs of equal keys the in-place path takes: beyond this, input
/// is sorted instead (every run becomes a piece of work of its own).
fn max_runs(rows: usize) -> usize {
    (rows / 64).max(100_000)
}

/// Finds the rows of each key. Input whose rows come in runs of one key, each
/// run in time order and the runs of a key following each other in time
/// (grouped by key, or day after day with the keys grouped within a day), is
/// read in place: returns the runs (within the chunks of `ts`) and the
/// segments. Otherwise returns the permutation that sorts the input by key and
/// time (stable), the segments, and one run per segment in the permuted
/// (contiguous) rows. Segments come in key order.
pub(super) fn group_rows(
    keys: &DataFrame,
    ts: &Int64Chunked,
) -> Result<(Option<Permutation>, Vec<Segment>, Vec<Run>)> {
    let n = ts.len();
    if n == 0 {
        return Ok((None, Vec::new(), Vec::new()));
    }
    let cols: Vec<KeyCol> = keys
        .columns()
        .iter()
        .map(KeyCol::new)
        .collect::<Result<_>>()?;
    let key_of = |row: usize| -> Vec<KeyVal> { cols.iter().map(|c| c.get(row)).collect() };
    // A number per distinct key; the keys' order, by their values.
    let (ids, firsts) = key_numbers(&cols, n);
    let mut order: Vec<(Vec<KeyVal>, usize)> = firsts
        .iter()
        .enumerate()
        .map(|(k, &row)| (key_of(row), k))
        .collect();
    order.sort_by(|a, b| a.0.cmp(&b.0));
    let order: Vec<usize> = order.into_iter().map(|(_, k)| k).collect();
    if let Some((segs, runs)) = runs_in_place(&ids, &firsts, &order, ts) {
        return Ok((None, segs, runs));
    }
    // General case (e.g. rows ordered by time, the keys interleaved): a
    // counting sort of the rows by key number (stable), each key's rows
    // sorted by time where they are not, keys in key order.
    let contiguous = ts.rechunk();
    let ts = ts_slice(&contiguous);
    // Each key's place in the output: keys in key order.
    let mut counts = vec![0usize; firsts.len()];
    for &id in &ids {
        counts[id as usize] += 1;
    }
    let mut starts = vec![0usize; firsts.len()];
    let mut at = 0;
    for &k in &order {
        starts[k] = at;
        at += counts[k];
    }
    // The rows, scattered to their key's place (stable), noting on the way
    // which keys' rows come out of time order.
    let mut fill = starts.clone();
    let mut last = vec![i64::MIN; firsts.len()];
    let mut unsorted = vec![false; firsts.len()];
    let mut perm: Vec<IdxSize> = vec![0; n];
    let mut dest: Vec<IdxSize> = vec![0; n];
    for (row, &id) in ids.iter().enumerate() {
        let k = id as usize;
        let t = ts[row];
        unsorted[k] |= t < last[k];
        last[k] = t;
        perm[fill[k]] = row as IdxSize;
        dest[row] = fill[k] as IdxSize;
        fill[k] += 1;
    }
    let any_unsorted = unsorted.iter().any(|u| *u);
    drop(ids);
    // Each key's rows in time order (stable: of equal times, input order).
    let mut groups: Vec<&mut [IdxSize]> = Vec::with_capacity(order.len());
    let mut rest: &mut [IdxSize] = &mut perm;
    for &k in &order {
        let (group, tail) = rest.split_at_mut(counts[k]);
        if unsorted[k] {
            groups.push(group);
        }
        rest = tail;
    }
    groups
        .par_iter_mut()
        .for_each(|g| g.sort_by_key(|r| ts[*r as usize]));
    drop(groups);
    let mut segs = Vec::with_capacity(order.len());
    let mut runs = Vec::with_capacity(order.len());
    for &k in &order {
        let lo = starts[k];
        segs.push(Segment {
            first: runs.len(),
            len: 1,
            key_row: perm[lo],
        });
        runs.push(Run {
            chunk: 0,
            lo,
            hi: lo + counts[k],
        });
    }
    Ok((
        Some(Permutation {
            perm: IdxCa::from_vec(PlSmallStr::EMPTY, perm),
            // Sorting moved rows: only the gather is right then.
            dest: (!any_unsorted).then_some(dest),
        }),
        segs,
        runs,
    ))
}

/// How the rows go from input order to key-and-time order: `perm[j]` is the
/// input row of output row `j`; `dest[i]` (when known) the output row of
/// input row `i`, its inverse.
pub(super) struct Permutation {
    pub(super) perm: IdxCa,
    pub(super) dest: Option<Vec<IdxSize>>,
}

/// A number per distinct key (of all `cols` together), for each of the `n`
/// rows, numbered in order of first appearance; and the first row of each.
fn key_numbers(cols: &[KeyCol], n: usize) -> (Vec<u32>, Vec<usize>) {
    let mut ids: Vec<u32> = Vec::new();
    let mut firsts: Vec<usize> = Vec::new();
    for (c, col) in cols.iter().enumerate() {
        let (col_ids, col_firsts) = col.numbers();
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

/// The in-place grouping of [`group_rows`], if the input allows it: runs of
/// equal keys (cut at chunk boundaries too), each in time order, and the runs
/// of each key, ordered by their first timestamp, in time order as well. Where
/// the last row of one run and the first of the next run of the key have the
/// same timestamp, the later run must also come later in the input (so that
/// of equal timestamps the last one in input order is kept, as when sorting).
/// `ids` are the rows' key numbers, `firsts` each number's first row and
/// `order` the numbers in key order.
fn runs_in_place(
    ids: &[u32],
    firsts: &[usize],
    order: &[usize],
    ts: &Int64Chunked,
) -> Option<(Vec<Segment>, Vec<Run>)> {
    let limit = max_runs(ids.len());
    // The runs of each key, in input order.
    let mut members: Vec<Vec<Run>> = vec![Vec::new(); firsts.len()];
    let mut runs = 0;
    let mut row = 0;
    for (ci, chunk) in ts.downcast_iter().enumerate() {
        let t = chunk.values().as_slice();
        let id = &ids[row..row + t.len()];
        let mut lo = 0;
        while lo < t.len() {
            let key = id[lo];
            let mut hi = lo + 1;
            while hi < t.len() && id[hi] == key {
                if t[hi] < t[hi - 1] {
                    return None;
                }
                hi += 1;
            }
            runs += 1;
            if runs > limit {
                return None;
            }
            members[key as usize].push(Run { chunk: ci, lo, hi });
            lo = hi;
        }
        row += t.len();
    }
    let chunks: Vec<&[i64]> = ts.downcast_iter().map(|a| a.values().as_slice()).collect();
    let first = |r: &Run| chunks[r.chunk][r.lo];
    let last = |r: &Run| chunks[r.chunk][r.hi - 1];
    for m in members.iter_mut() {
        if m.len() > 1 {
            m.sort_by_key(first); // stable: input order among equals
            let ordered = m.windows(2).all(|w| {
                let (a, b) = (last(&w[0]), first(&w[1]));
                a < b || (a == b && (w[0].chunk, w[0].lo) < (w[1].chunk, w[1].lo))
            });
            if !ordered {
                return None;
            }
        }
    }
    let mut segs = Vec::with_capacity(members.len());
    let mut out = Vec::with_capacity(runs);
    for &k in order {
        segs.push(Segment {
            first: out.len(),
            len: members[k].len(),
            key_row: firsts[k] as IdxSize,
        });
        out.append(&mut members[k]);
    }
    Some((segs, out))
}
