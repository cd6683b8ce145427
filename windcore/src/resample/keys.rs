//! Rows per key: the runs of rows of one key read in place, or the
//! permutation that sorts the input by key and time.

use polars::prelude::*;
use rayon::prelude::*;

use super::prepare::{scatter_with, ts_slice};
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

    /// Rows `offset..offset + len`.
    fn slice(&self, offset: usize, len: usize) -> Self {
        match self {
            KeyCol::Int(c) => KeyCol::Int(c.slice(offset as i64, len)),
            KeyCol::Str(c) => KeyCol::Str(c.slice(offset as i64, len)),
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
            KeyCol::Int(c) => {
                let mut seen: PlHashMap<Option<i64>, u32> = PlHashMap::default();
                // Keys interleaved row by row defeat the run: a small
                // direct-mapped cache answers most rows before the hash map.
                const SLOTS: usize = 1024;
                const EMPTY: u32 = u32::MAX;
                let mut cache: Vec<(i64, u32)> = vec![(0, EMPTY); SLOTS];
                let slot = |x: i64| ((x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize;
                let mut last: Option<(Option<i64>, u32)> = None;
                for (row, v) in c.iter().enumerate() {
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
    // The rows in blocks, on every core: each block's count of each key,
    // then each block's place within each key's place (keys in key order,
    // blocks in input order: stable), then every row's place.
    let keys_n = firsts.len();
    let blocks = sort_blocks(n, keys_n);
    let block_len = n.div_ceil(blocks);
    let block_counts: Vec<Vec<usize>> = ids
        .par_chunks(block_len)
        .map(|b| {
            let mut c = vec![0usize; keys_n];
            for &id in b {
                c[id as usize] += 1;
            }
            c
        })
        .collect();
    let mut counts = vec![0usize; keys_n];
    for c in &block_counts {
        for (total, k) in counts.iter_mut().zip(c) {
            *total += k;
        }
    }
    let mut fills: Vec<Vec<usize>> = vec![vec![0; keys_n]; block_counts.len()];
    let mut starts = vec![0usize; keys_n];
    let mut at = 0;
    for &k in &order {
        starts[k] = at;
        for (fill, c) in fills.iter_mut().zip(&block_counts) {
            fill[k] = at;
            at += c[k];
        }
    }
    drop(block_counts);
    // Each row's place, noting which keys' rows come out of time order:
    // within a block, and (from each block's first and last time of a key)
    // between blocks.
    let mut dest: Vec<IdxSize> = vec![0; n];
    let edges: Vec<Vec<(i64, i64, bool)>> = dest
        .par_chunks_mut(block_len)
        .zip(ids.par_chunks(block_len))
        .zip(fills)
        .enumerate()
        .map(|(b, ((dest, ids), mut fill))| {
            let lo = b * block_len;
            let mut edge = vec![(i64::MAX, i64::MIN, false); keys_n];
            for (j, (d, &id)) in dest.iter_mut().zip(ids).enumerate() {
                let k = id as usize;
                let t = ts[lo + j];
                let e = &mut edge[k];
                e.2 |= t < e.1;
                e.0 = e.0.min(t);
                e.1 = t;
                *d = fill[k] as IdxSize;
                fill[k] += 1;
            }
            edge
        })
        .collect();
    let mut unsorted = vec![false; keys_n];
    let mut last = vec![i64::MIN; keys_n];
    for edge in &edges {
        for (k, &(first, end, inner)) in edge.iter().enumerate() {
            if end == i64::MIN {
                continue; // no row of this key in the block
            }
            unsorted[k] |= inner || first < last[k];
            last[k] = end;
        }
    }
    drop(edges);
    let any_unsorted = unsorted.iter().any(|u| *u);
    drop(ids);
    let mut segs = Vec::with_capacity(order.len());
    let mut runs = Vec::with_capacity(order.len());
    for &k in &order {
        let lo = starts[k];
        segs.push(Segment {
            first: runs.len(),
            len: 1,
            key_row: firsts[k] as IdxSize,
        });
        runs.push(Run {
            chunk: 0,
            lo,
            hi: lo + counts[k],
        });
    }
    if !any_unsorted {
        return Ok((Some(Permutation::scatter(dest)), segs, runs));
    }
    // Each key's rows in time order (stable: of equal times, input order),
    // sorted in the gather order (the inverse of `dest`).
    let mut perm: Vec<IdxSize> = scatter_with(&dest, |row| row as IdxSize);
    drop(dest);
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
    Ok((
        Some(Permutation::gather(IdxCa::from_vec(
            PlSmallStr::EMPTY,
            perm,
        ))),
        segs,
        runs,
    ))
}

/// How many blocks the counting sort of `n` rows of `keys` keys cuts the
/// rows into: enough for every core, but each block keeps a count per key,
/// so few when the keys are many.
fn sort_blocks(n: usize, keys: usize) -> usize {
    let want = rayon::current_num_threads() * 4;
    want.min(n / (16 * keys.max(1))).clamp(1, want)
}

/// How the rows go from input order to key-and-time order: `perm[j]` is the
/// input row of output row `j`; `dest[i]` (when known) the output row of
/// input row `i`, its inverse. Either is made from the other when asked.
pub(super) struct Permutation {
    perm: std::sync::OnceLock<IdxCa>,
    pub(super) dest: Option<Vec<IdxSize>>,
}

impl Permutation {
    /// The permutation that gathers row `perm[j]` into row `j`.
    pub(super) fn gather(perm: IdxCa) -> Self {
        Permutation {
            perm: perm.into(),
            dest: None,
        }
    }

    /// The permutation that moves row `i` to row `dest[i]` (`dest` a
    /// permutation of the rows).
    pub(super) fn scatter(dest: Vec<IdxSize>) -> Self {
        Permutation {
            perm: std::sync::OnceLock::new(),
            dest: Some(dest),
        }
    }

    /// The input row of each output row.
    pub(super) fn perm(&self) -> &IdxCa {
        self.perm.get_or_init(|| {
            let dest = self.dest.as_deref().unwrap_or_default();
            IdxCa::from_vec(PlSmallStr::EMPTY, scatter_with(dest, |row| row as IdxSize))
        })
    }
}

/// A number per distinct key (of all `cols` together), for each of the `n`
/// rows, numbered in order of first appearance; and the first row of each.
fn key_numbers(cols: &[KeyCol], n: usize) -> (Vec<u32>, Vec<usize>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Key values of `n` rows: interleaved names (up to and over 12 bytes),
    /// nulls, and a name that first appears late.
    fn names(n: usize) -> Vec<Option<String>> {
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
        let ints = KeyCol::Int(Int64Chunked::from_iter_options(
            "k".into(),
            (0..n).map(|i| (i % 11 != 0).then_some(((i * 7919) % 13) as i64)),
        ));
        for col in [strs, ints] {
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

    #[test]
    fn the_counting_sort_equals_a_stable_sort_by_key_and_time() {
        // Keys interleaved row by row (more runs than the in-place path
        // takes); one key's times go back, another's jump back once; equal
        // times keep their input order.
        let n = 150_000;
        let keys = names(n);
        let ts: Vec<i64> = (0..n as i64)
            .map(|i| match i % 7 {
                2 => (n as i64 - i) / 3,
                3 if i > 50_000 => i / 3 - 20_000,
                _ => i / 3,
            })
            .collect();
        let df = DataFrame::new_infer_height(vec![Column::new(
            "k".into(),
            keys.iter().map(|k| k.as_deref()).collect::<Vec<_>>(),
        )])
        .unwrap();
        let tsca = Int64Chunked::from_vec("t".into(), ts.clone());
        let (perm, segs, runs) = group_rows(&df, &tsca).unwrap();
        let got: Vec<IdxSize> = perm.unwrap().perm().into_no_null_iter().collect();
        let mut want: Vec<usize> = (0..n).collect();
        want.sort_by_key(|&r| (keys[r].clone(), ts[r])); // stable; None first
        let want: Vec<IdxSize> = want.into_iter().map(|r| r as IdxSize).collect();
        assert_eq!(got, want);
        // One segment per key, in key order, each run holding its rows.
        assert_eq!(segs.len(), 8);
        for (s, r) in segs.iter().zip(&runs) {
            let rows = &want[r.lo..r.hi];
            assert!(rows
                .iter()
                .all(|&x| keys[x as usize] == keys[s.key_row as usize]));
        }
    }
}
