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

    /// Marks in `starts` every row whose key differs from the previous row's.
    fn mark_changes(&self, starts: &mut [bool]) {
        match self {
            KeyCol::Int(c) => {
                let mut prev: Option<Option<i64>> = None;
                for (i, v) in c.iter().enumerate() {
                    if prev.is_some_and(|p| p != v) {
                        starts[i] = true;
                    }
                    prev = Some(v);
                }
            }
            KeyCol::Str(c) => {
                let mut prev: Option<Option<&str>> = None;
                let mut row = 0;
                for arr in c.downcast_iter() {
                    if polars_arrow::array::Array::null_count(arr) > 0 {
                        for (i, v) in arr.iter().enumerate() {
                            if prev.is_some_and(|p| p != v) {
                                starts[row + i] = true;
                            }
                            prev = Some(v);
                        }
                    } else {
                        // A string equal to the previous row's has, most of
                        // the time, the same view (length, bytes or buffer
                        // position): equal views mean equal strings, so only
                        // differing views need their strings compared.
                        let views = arr.views().as_slice();
                        for (i, view) in views.iter().enumerate() {
                            if i > 0 && views[i - 1].as_u128() == view.as_u128() {
                                continue;
                            }
                            // SAFETY: `i` is in bounds of this array.
                            let v = Some(unsafe { arr.value_unchecked(i) });
                            if prev.is_some_and(|p| p != v) {
                                starts[row + i] = true;
                            }
                            prev = Some(v);
                        }
                    }
                    row += arr.len();
                }
            }
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
    by: &[String],
    ts: &Int64Chunked,
) -> Result<(Option<IdxCa>, Vec<Segment>, Vec<Run>)> {
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
    if let Some(found) = runs_in_place(&cols, ts, &key_of) {
        return Ok(found);
    }
    // General case: the groups of equal keys (hash-based, in polars), each
    // sorted by time (stable), in key order.
    let contiguous = ts.rechunk();
    let ts = ts_slice(&contiguous);
    let gb = keys.group_by_stable(by.iter().map(|s| s.as_str()))?;
    let groups: Vec<Vec<IdxSize>> = match &**gb.get_groups() {
        GroupsType::Idx(g) => g.all().iter().map(|v| v.to_vec()).collect(),
        GroupsType::Slice { groups, .. } => groups
            .iter()
            .map(|[first, len]| (*first..*first + *len).collect())
            .collect(),
    };
    let mut order: Vec<(Vec<KeyVal>, Vec<IdxSize>)> = groups
        .into_par_iter()
        .map(|mut rows| {
            if !rows
                .windows(2)
                .all(|w| ts[w[0] as usize] <= ts[w[1] as usize])
            {
                rows.sort_by_key(|r| ts[*r as usize]); // stable
            }
            (key_of(rows[0] as usize), rows)
        })
        .collect();
    order.sort_by(|a, b| a.0.cmp(&b.0));
    let mut perm: Vec<IdxSize> = Vec::with_capacity(n);
    let mut segs = Vec::with_capacity(order.len());
    let mut runs = Vec::with_capacity(order.len());
    for (_, rows) in order {
        let lo = perm.len();
        segs.push(Segment {
            first: runs.len(),
            len: 1,
            key_row: rows[0],
        });
        runs.push(Run {
            chunk: 0,
            lo,
            hi: lo + rows.len(),
        });
        perm.extend_from_slice(&rows);
    }
    Ok((Some(IdxCa::from_vec(PlSmallStr::EMPTY, perm)), segs, runs))
}

/// The in-place grouping of [`group_rows`], if the input allows it: runs of
/// equal keys (cut at chunk boundaries too), each in time order, and the runs
/// of each key, ordered by their first timestamp, in time order as well. Where
/// the last row of one run and the first of the next run of the key have the
/// same timestamp, the later run must also come later in the input (so that
/// of equal timestamps the last one in input order is kept, as when sorting).
#[allow(clippy::type_complexity)]
fn runs_in_place(
    cols: &[KeyCol],
    ts: &Int64Chunked,
    key_of: &dyn Fn(usize) -> Vec<KeyVal>,
) -> Option<(Option<IdxCa>, Vec<Segment>, Vec<Run>)> {
    let n = ts.len();
    let mut change = vec![false; n];
    for c in cols {
        c.mark_changes(&mut change);
    }
    // Runs start where the key changes and at every chunk start.
    let chunks: Vec<&[i64]> = ts.downcast_iter().map(|a| a.values().as_slice()).collect();
    let mut offsets = Vec::with_capacity(chunks.len());
    let mut off = 0;
    for c in &chunks {
        offsets.push(off);
        if off < n {
            change[off] = true;
        }
        off += c.len();
    }
    let limit = max_runs(n);
    // (first row of the run in the input, run)
    let mut runs: Vec<(usize, Run)> = Vec::new();
    let mut ci = 0;
    let mut start = 0;
    let ends = change
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, c)| **c)
        .map(|(i, _)| i)
        .chain(std::iter::once(n));
    for end in ends {
        while offsets[ci] + chunks[ci].len() <= start {
            ci += 1;
        }
        let base = offsets[ci];
        let run = Run {
            chunk: ci,
            lo: start - base,
            hi: end - base,
        };
        let r = &chunks[ci][run.lo..run.hi];
        if !r.windows(2).all(|w| w[0] <= w[1]) || runs.len() == limit {
            return None;
        }
        runs.push((start, run));
        start = end;
    }
    drop(change);
    // The runs of each key, in input order.
    let mut index: std::collections::HashMap<Vec<KeyVal>, usize> = std::collections::HashMap::new();
    let mut members: Vec<(Vec<KeyVal>, Vec<usize>)> = Vec::new();
    for (ri, (row, _)) in runs.iter().enumerate() {
        let key = key_of(*row);
        match index.get(&key) {
            Some(k) => members[*k].1.push(ri),
            None => {
                index.insert(key.clone(), members.len());
                members.push((key, vec![ri]));
            }
        }
    }
    drop(index);
    let first = |ri: usize| {
        let r = runs[ri].1;
        chunks[r.chunk][r.lo]
    };
    let last = |ri: usize| {
        let r = runs[ri].1;
        chunks[r.chunk][r.hi - 1]
    };
    for (_, m) in members.iter_mut() {
        if m.len() > 1 {
            m.sort_by_key(|ri| first(*ri)); // stable: input order among equals
            let ordered = m.windows(2).all(|w| {
                let (a, b) = (last(w[0]), first(w[1]));
                a < b || (a == b && w[0] < w[1])
            });
            if !ordered {
                return None;
            }
        }
    }
    members.sort_by(|a, b| a.0.cmp(&b.0));
    let mut segs = Vec::with_capacity(members.len());
    let mut out = Vec::with_capacity(runs.len());
    for (_, m) in members {
        segs.push(Segment {
            first: out.len(),
            len: m.len(),
            key_row: runs[m[0]].0 as IdxSize,
        });
        out.extend(m.iter().map(|ri| runs[*ri].1));
    }
    Some((None, segs, out))
}
