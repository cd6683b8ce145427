//! Rows per key: the runs of rows of one key read in place, or the
//! permutation that sorts the input by key and time.

use std::sync::atomic::AtomicUsize;

use polars::prelude::*;
use rayon::prelude::*;

use super::key_col::{key_numbers, KeyCol, KeyVal};
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
    // One key column in runs (day after day, or grouped by key): found
    // from where the key changes, without a number for every row.
    if let [col] = cols.as_slice() {
        if let Some((segs, runs)) = runs_of_one_key(col, ts) {
            return Ok((None, segs, runs));
        }
    }
    // A number per distinct key; the keys' order, by their values.
    let (ids, firsts) = key_numbers(&cols, n);
    let order = key_order(&cols, &firsts);
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
    segments_of(members, runs, firsts, order, ts)
}

/// The keys numbered by their first rows `firsts`, in the order of their
/// values.
fn key_order(cols: &[KeyCol], firsts: &[usize]) -> Vec<usize> {
    let key_of = |row: usize| -> Vec<KeyVal> { cols.iter().map(|c| c.get(row)).collect() };
    let mut order: Vec<(Vec<KeyVal>, usize)> = firsts
        .iter()
        .enumerate()
        .map(|(k, &row)| (key_of(row), k))
        .collect();
    order.sort_by(|a, b| a.0.cmp(&b.0));
    order.into_iter().map(|(_, k)| k).collect()
}

/// [`runs_in_place`] of one key column, found on every core without a
/// number for every row: each block of rows lists where its key changes and
/// checks the time order within each run; then the runs (not the rows) are
/// numbered by key. `None` where the rows are not in such runs (or a run's
/// time goes back), as [`runs_in_place`] would say; a block stops as soon as
/// all of them together have found too many runs.
fn runs_of_one_key(col: &KeyCol, ts: &Int64Chunked) -> Option<(Vec<Segment>, Vec<Run>)> {
    const BLOCK: usize = 1 << 20;
    let limit = max_runs(ts.len());
    let chunks: Vec<&[i64]> = ts.downcast_iter().map(|a| a.values().as_slice()).collect();
    let mut offsets = Vec::with_capacity(chunks.len());
    let mut blocks = Vec::new();
    let mut off = 0;
    for (ci, t) in chunks.iter().enumerate() {
        offsets.push(off);
        for lo in (0..t.len()).step_by(BLOCK) {
            blocks.push((ci, lo, (lo + BLOCK).min(t.len())));
        }
        off += t.len();
    }
    let found = AtomicUsize::new(0);
    let per_block: Vec<Option<Vec<Run>>> = blocks
        .par_iter()
        .map(|&(ci, lo, hi)| {
            let (t, off) = (chunks[ci], offsets[ci]);
            let starts = col.run_starts(off + lo, off + hi, &found, limit)?;
            let mut runs = Vec::with_capacity(starts.len());
            for (j, &start) in starts.iter().enumerate() {
                let (a, b) = (start - off, starts.get(j + 1).map_or(hi, |&e| e - off));
                let back = t[a..b - 1]
                    .iter()
                    .zip(&t[a + 1..b])
                    .fold(false, |back, (x, y)| back | (y < x));
                if back {
                    return None;
                }
                runs.push(Run {
                    chunk: ci,
                    lo: a,
                    hi: b,
                });
            }
            Some(runs)
        })
        .collect();
    let mut runs = 0;
    let mut number: PlHashMap<KeyVal, usize> = PlHashMap::default();
    let mut firsts: Vec<usize> = Vec::new();
    let mut members: Vec<Vec<Run>> = Vec::new();
    for block in per_block {
        for r in block? {
            let row = offsets[r.chunk] + r.lo;
            let k = *number.entry(col.get(row)).or_insert_with(|| {
                firsts.push(row);
                members.push(Vec::new());
                firsts.len() - 1
            });
            members[k].push(r);
            runs += 1;
        }
    }
    if runs > limit {
        return None;
    }
    let order = key_order(std::slice::from_ref(col), &firsts);
    segments_of(members, runs, &firsts, &order, ts)
}

/// The segments of the keys (in `order`) whose runs in input order are
/// `members` (`runs` in all, first rows `firsts`), if each key's runs follow
/// each other in time (see [`runs_in_place`]).
fn segments_of(
    mut members: Vec<Vec<Run>>,
    runs: usize,
    firsts: &[usize],
    order: &[usize],
    ts: &Int64Chunked,
) -> Option<(Vec<Segment>, Vec<Run>)> {
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
    use super::super::key_col::tests::names;
    use super::*;

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

    /// The rows of each segment, in order: the runs joined (where a block
    /// boundary cut one, the pieces follow each other).
    fn rows_of(segs: &[Segment], runs: &[Run], offsets: &[usize]) -> Vec<Vec<usize>> {
        segs.iter()
            .map(|s| {
                runs[s.first..s.first + s.len]
                    .iter()
                    .flat_map(|r| (r.lo..r.hi).map(move |i| offsets[r.chunk] + i))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn runs_found_where_keys_change_equal_runs_found_from_row_numbers() {
        // Day after day, the keys in runs within each day (8 names: short,
        // over 12 bytes, null), over two blocks of rows and three chunks of
        // time cut elsewhere than the keys' chunks; the long names stored
        // once per row (views differ, texts equal).
        let per_day = 8 * 1000;
        let days = 140; // 1,120,000 rows: past one block of 2^20
        let n = per_day * days;
        let name = |k: usize| match k {
            0 => None,
            k if k % 2 == 0 => Some(format!("T{k:02}")),
            k => Some(format!("a turbine name of over twelve bytes {k}")),
        };
        let key_of_row = |r: usize| (r % per_day) / 1000;
        let strs: Vec<Option<String>> = (0..n).map(|r| name(key_of_row(r))).collect();
        let ts: Vec<i64> = (0..n)
            .map(|r| ((r / per_day) * 1000 + r % 1000) as i64)
            .collect();
        let mut tsca = Int64Chunked::from_vec("t".into(), ts[..300_000].to_vec());
        tsca.append(&Int64Chunked::from_vec(
            "t".into(),
            ts[300_000..1_100_000].to_vec(),
        ))
        .unwrap();
        tsca.append(&Int64Chunked::from_vec(
            "t".into(),
            ts[1_100_000..].to_vec(),
        ))
        .unwrap();
        let offsets = [0, 300_000, 1_100_000];
        let mut key_str = StringChunked::from_iter_options(
            "k".into(),
            strs[..500_000].iter().map(|s| s.as_deref()),
        );
        key_str
            .append(&StringChunked::from_iter_options(
                "k".into(),
                strs[500_000..].iter().map(|s| s.as_deref()),
            ))
            .unwrap();
        let ints = |r: usize| (key_of_row(r) != 0).then_some(key_of_row(r) as i64 * 7 - 20);
        let cols = [
            KeyCol::Str(key_str),
            KeyCol::I64(Int64Chunked::from_iter_options(
                "k".into(),
                (0..n).map(ints),
            )),
            KeyCol::I32(Int32Chunked::from_iter_options(
                "k".into(),
                (0..n).map(|r| ints(r).map(|v| v as i32)),
            )),
            KeyCol::U32(UInt32Chunked::from_iter_options(
                "k".into(),
                (0..n).map(|r| ints(r).map(|v| (v + 20) as u32)),
            )),
        ];
        for col in &cols {
            let (fast_segs, fast_runs) = runs_of_one_key(col, &tsca).expect("in runs");
            let cols = std::slice::from_ref(col);
            let (ids, firsts) = key_numbers(cols, n);
            let order = key_order(cols, &firsts);
            let (segs, runs) = runs_in_place(&ids, &firsts, &order, &tsca).expect("in runs");
            assert_eq!(
                rows_of(&fast_segs, &fast_runs, &offsets),
                rows_of(&segs, &runs, &offsets)
            );
            let keys = |segs: &[Segment]| {
                segs.iter()
                    .map(|s| col.get(s.key_row as usize))
                    .collect::<Vec<_>>()
            };
            assert_eq!(keys(&fast_segs), keys(&segs));
            assert_eq!(fast_segs.len(), 8);
        }
        // Not in runs: time going back inside a run; the keys interleaved
        // row by row (too many runs).
        let mut back = ts.clone();
        back.swap(5, 6);
        let back = Int64Chunked::from_vec("t".into(), back);
        let interleaved = KeyCol::I64(Int64Chunked::from_vec(
            "k".into(),
            (0..n as i64).map(|r| r % 8).collect(),
        ));
        let plain = Int64Chunked::from_vec("t".into(), ts);
        assert!(runs_of_one_key(&cols[1], &back).is_none());
        assert!(runs_of_one_key(&interleaved, &plain).is_none());
        assert!(runs_of_one_key(&cols[1], &plain).is_some());
    }
}
