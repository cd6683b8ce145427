//! The input of one resampling checked and normalised: the columns picked,
//! variables as f64, the window grid, and the rows in key and time order.

use chrono::TimeDelta;
use polars::prelude::*;
use rayon::prelude::*;

use super::kernel::Grid;
use super::keys::{group_rows, Permutation, Run, Segment};
use super::Resampler;
use crate::error::{Error, Result};
use crate::frame::{column, column_list, time_values};

/// The prepared input of one resampling: sorted timestamps and f64 variables.
pub(super) struct Prepared {
    pub(super) unit: TimeUnit,
    /// Time units per second (1_000 for ms, ...).
    pub(super) per_sec: i64,
    pub(super) grid: Grid,
    pub(super) rows: usize,
    pub(super) ts: Int64Chunked,
    pub(super) vars: Vec<(String, Float64Chunked, bool)>,
    /// With keys: the key columns of the input, the segments (one per key,
    /// in key order) and their runs of rows.
    pub(super) keys: Option<(DataFrame, Vec<Segment>, Vec<Run>)>,
    /// The counters and state channels in input order, cut like the input.
    pub(super) record: Vec<RecCol>,
    /// How `ts` was put in key and time order, if it was: the counters and
    /// states follow it once their state codes are known (moving a row's
    /// code costs half of moving its value).
    pub(super) perm: Option<Permutation>,
    /// Without keys: the step between every two rows, if it is one and the
    /// same (positive) step; then `ts` is sorted and every run of its rows
    /// regular, which the plan need not check again.
    pub(super) step: Option<i64>,
}

/// A counter or state channel of the prepared input.
pub(super) struct RecCol {
    pub(super) name: String,
    pub(super) counter: bool,
    pub(super) data: RecData,
}

/// The values of a [`RecCol`]: numbers (counters, float states), integer
/// states or texts.
pub(super) enum RecData {
    Num(Float64Chunked),
    Int(Int64Chunked),
    Text(StringChunked),
}

impl RecData {
    fn chunk_lengths(&self) -> Vec<usize> {
        match self {
            RecData::Num(c) => c.chunk_lengths().collect(),
            RecData::Int(c) => c.chunk_lengths().collect(),
            RecData::Text(c) => c.chunk_lengths().collect(),
        }
    }

    fn rechunk_mut(&mut self) {
        match self {
            RecData::Num(c) => c.rechunk_mut(),
            RecData::Int(c) => c.rechunk_mut(),
            RecData::Text(c) => *c = c.rechunk().into_owned(),
        }
    }
}

impl Resampler {
    /// Validates and normalises the input: picks the columns, casts variables
    /// to f64, finds the runs of each key, and sorts (stable) by key and
    /// timestamp when the input is not in that order already.
    pub(super) fn prepare(&self, df: &DataFrame) -> Result<Prepared> {
        let tcol = column(df, &self.timestamp_column)?;
        let unit = match tcol.dtype() {
            DataType::Datetime(tu, _) => *tu,
            other => {
                return Err(Error::ColumnType {
                    column: self.timestamp_column.clone(),
                    found: other.to_string(),
                    expected: "Datetime (ms, us or ns; UTC, another time zone, or naive = UTC)"
                        .into(),
                })
            }
        };
        if tcol.null_count() > 0 {
            return Err(Error::NullTimestamps {
                column: self.timestamp_column.clone(),
                nulls: tcol.null_count(),
            });
        }
        for k in &self.by {
            let col = column(df, k)?;
            if !(col.dtype().is_integer() || matches!(col.dtype(), DataType::String)) {
                return Err(Error::ColumnType {
                    column: k.clone(),
                    found: col.dtype().to_string(),
                    expected: "a string or integer key (cast categoricals to string)".into(),
                });
            }
        }
        let var_names: Vec<String> = match &self.variables {
            Some(v) => v.clone(),
            None => df
                .columns()
                .iter()
                .filter(|c| {
                    let n = c.name().as_str();
                    n != self.timestamp_column
                        && !self.by.iter().any(|k| k == n)
                        && c.dtype().is_primitive_numeric()
                })
                .map(|c| c.name().to_string())
                .collect(),
        };
        // Counters and states are channels of their own, not analog variables.
        let var_names: Vec<String> = var_names
            .into_iter()
            .filter(|v| !self.counters.contains(v) && !self.states.contains(v))
            .collect();
        let mut record = Vec::with_capacity(self.counters.len() + self.states.len());
        for (name, counter) in self
            .counters
            .iter()
            .map(|c| (c, true))
            .chain(self.states.iter().map(|s| (s, false)))
        {
            let col = column(df, name)?;
            // (Integer states stay integers: an i64 column is not copied.)
            let data = if !counter && col.dtype().is_integer() {
                let i = col.as_materialized_series().cast(&DataType::Int64)?;
                RecData::Int(i.i64()?.clone())
            } else if col.dtype().is_primitive_numeric() {
                let f = col.as_materialized_series().cast(&DataType::Float64)?;
                RecData::Num(f.f64()?.clone())
            } else if !counter && matches!(col.dtype(), DataType::String) {
                RecData::Text(col.str()?.clone())
            } else {
                return Err(Error::ColumnType {
                    column: name.clone(),
                    found: col.dtype().to_string(),
                    expected: if counter {
                        "a numeric counter (float or integer)".into()
                    } else {
                        "state codes: integers or texts (cast categoricals to string)".into()
                    },
                });
            };
            record.push(RecCol {
                name: name.clone(),
                counter,
                data,
            });
        }
        for a in &self.angles {
            if !var_names.contains(a) {
                return Err(Error::MissingColumn {
                    column: a.clone(),
                    available: column_list(df),
                });
            }
        }
        let mut vars = Vec::with_capacity(var_names.len());
        for name in var_names {
            let col = column(df, &name)?;
            if !col.dtype().is_primitive_numeric() {
                return Err(Error::ColumnType {
                    column: name,
                    found: col.dtype().to_string(),
                    expected: "a numeric type (float or integer)".into(),
                });
            }
            let f = col.as_materialized_series().cast(&DataType::Float64)?;
            let angle = self.angles.contains(&name);
            vars.push((name, f.f64()?.clone(), angle));
        }
        let (_, mut ts) = time_values(tcol)?;
        let per_sec = match unit {
            TimeUnit::Milliseconds => 1_000,
            TimeUnit::Microseconds => 1_000_000,
            TimeUnit::Nanoseconds => 1_000_000_000,
        };
        let every = self.every_secs * per_sec;
        // Windows line up with the local clock: shifted by the UTC offset
        // modulo the window length (0 for UTC and whole-hour zones with
        // windows that divide an hour).
        // (The bounds cost two passes over the timestamps: only off UTC.)
        let bounds = if self.zone.is_utc() {
            None
        } else {
            ts.min().zip(ts.max())
        };
        let shift = match bounds {
            Some((lo, hi)) => {
                let at = |v: i64| {
                    chrono::DateTime::from_timestamp(v.div_euclid(per_sec), 0).unwrap_or_default()
                };
                let range = crate::day::TimeRange {
                    start: at(lo),
                    end: at(hi) + TimeDelta::seconds(1),
                };
                self.zone.window_shift(range, self.every())? * per_sec
            }
            None => 0,
        };
        let grid = Grid { every, shift };
        let rows = df.height();
        // The kernel reads the input chunks in place when every column is cut
        // the same way (the usual case: a frame read from Parquet or received
        // over Arrow); otherwise the columns are made contiguous first.
        let lengths: Vec<usize> = ts.chunk_lengths().collect();
        if vars
            .iter()
            .any(|(_, v, _)| !v.chunk_lengths().eq(lengths.iter().copied()))
            || record.iter().any(|r| r.data.chunk_lengths() != lengths)
        {
            ts.rechunk_mut();
            for (_, v, _) in vars.iter_mut() {
                v.rechunk_mut();
            }
            for r in record.iter_mut() {
                r.data.rechunk_mut();
            }
        }
        if !self.by.is_empty() {
            // The runs of rows of one key (in time order) are read in place;
            // input that is not in runs the kernel can read is sorted by key
            // and time.
            let keys = df.select(self.by.iter().map(|s| s.as_str()))?;
            let (perm, segs, runs) = group_rows(&keys, &ts)?;
            if let Some(p) = &perm {
                reorder(&mut ts, &mut vars, p);
            }
            return Ok(Prepared {
                unit,
                per_sec,
                grid,
                rows,
                ts,
                vars,
                keys: Some((keys, segs, runs)),
                record,
                perm,
                step: None,
            });
        }
        let mut perm = None;
        // Rows a constant step apart (most exports) are sorted: one pass
        // tells both.
        let step = constant_step(&ts);
        if step.is_none() && !is_sorted(&ts) {
            let idx = ts.arg_sort(SortOptions {
                descending: false,
                nulls_last: false,
                multithreaded: true,
                maintain_order: true,
                limit: None,
            });
            let p = Permutation::gather(idx);
            reorder(&mut ts, &mut vars, &p);
            perm = Some(p);
        }
        Ok(Prepared {
            unit,
            per_sec,
            grid,
            rows,
            ts,
            vars,
            keys: None,
            record,
            perm,
            step,
        })
    }
}

/// The timestamps and the variables in the order `idx` gives, contiguous.
fn reorder(ts: &mut Int64Chunked, vars: &mut [(String, Float64Chunked, bool)], p: &Permutation) {
    *ts = match &p.dest {
        Some(dest) => scatter(ts, dest),
        None => gather(ts, p.perm()),
    };
    for (_, v, _) in vars.iter_mut() {
        *v = match &p.dest {
            // (Nulls keep their validity: gathered.)
            Some(dest) if v.null_count() == 0 => scatter(v, dest),
            _ => gather(v, p.perm()),
        };
    }
}

/// A raw pointer handed to the workers of a scatter, which write disjoint
/// elements.
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
// SAFETY: used only by `scatter_with`, whose writes are disjoint.
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

/// `out[dest[i]] = f(i)` for every input row `i`, in parallel. Reading the
/// input in order and writing one stream per key is kinder to the caches
/// than gathering through `perm` when the keys are interleaved.
pub(super) fn scatter_with<T: Copy + Send + Sync>(
    dest: &[IdxSize],
    f: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    let n = dest.len();
    let mut out: Vec<T> = Vec::with_capacity(n);
    let ptr = SendPtr(out.as_mut_ptr());
    const BLOCK: usize = 1 << 16;
    dest.par_chunks(BLOCK).enumerate().for_each(|(b, d)| {
        let p = ptr;
        for (j, &to) in d.iter().enumerate() {
            let to = to as usize;
            assert!(to < n, "a destination out of range");
            // SAFETY: `dest` is a permutation of 0..n (group_rows): every
            // element is written exactly once, by one worker, in bounds.
            unsafe { p.0.add(to).write(f(b * BLOCK + j)) };
        }
    });
    // SAFETY: every element of 0..n was written above.
    unsafe { out.set_len(n) };
    out
}

/// The rows of `c` moved to `dest` (no nulls), as one chunk.
fn scatter<T: PolarsNumericType>(c: &ChunkedArray<T>, dest: &[IdxSize]) -> ChunkedArray<T> {
    let c = c.rechunk();
    let Some(arr) = c.downcast_iter().next() else {
        return c.into_owned();
    };
    let values = arr.values().as_slice();
    let out = scatter_with(dest, |i| values[i]);
    ChunkedArray::from_vec(c.name().clone(), out)
}

/// The rows of `c` in the order of `p`, as one chunk without validity: a
/// null becomes NaN.
pub(super) fn permute_nan(c: &Float64Chunked, p: &Permutation) -> Float64Chunked {
    let c = c.rechunk();
    let Some(arr) = c.downcast_iter().next() else {
        return c.into_owned();
    };
    let values = arr.values().as_slice();
    let out = match arr.validity().filter(|b| b.unset_bits() > 0) {
        None => permute_with(p, |i| values[i]),
        Some(valid) => permute_with(p, |i| {
            if valid.get_bit(i) {
                values[i]
            } else {
                f64::NAN
            }
        }),
    };
    Float64Chunked::from_vec(c.name().clone(), out)
}

/// The state codes of the rows (one chunk) in the order of `p`.
pub(super) fn permute_codes(codes: &[u32], p: &Permutation) -> Vec<u32> {
    permute_with(p, |i| codes[i])
}

/// `f(i)` of every input row `i`, in the order of `p`.
pub(super) fn permute_with<T: Copy + Send + Sync>(
    p: &Permutation,
    f: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    match &p.dest {
        Some(dest) => scatter_with(dest, f),
        None => {
            let positions: Vec<IdxSize>;
            let rows = match p.perm().cont_slice() {
                Ok(r) => r,
                Err(_) => {
                    positions = p.perm().into_no_null_iter().collect();
                    &positions
                }
            };
            rows.par_iter().map(|&i| f(i as usize)).collect()
        }
    }
}

/// The rows `idx` of `c` (every index in bounds: a permutation of its rows)
/// as one chunk: the values by index, the validity (if any value is null)
/// bit by bit. polars' `take` goes through an iterator of options for a
/// column with nulls, several times slower.
fn gather<T>(c: &ChunkedArray<T>, idx: &IdxCa) -> ChunkedArray<T>
where
    T: PolarsNumericType,
{
    let c = c.rechunk();
    let Some(arr) = c.downcast_iter().next() else {
        return c.into_owned();
    };
    let rows = idx.cont_slice().ok();
    let positions: Vec<IdxSize>;
    let rows = match rows {
        Some(r) => r,
        None => {
            positions = idx.into_no_null_iter().collect();
            &positions
        }
    };
    let values = arr.values().as_slice();
    let out: Vec<T::Native> = rows.par_iter().map(|&i| values[i as usize]).collect();
    let validity = arr.validity().filter(|b| b.unset_bits() > 0).map(|b| {
        let mut m = polars_arrow::bitmap::MutableBitmap::with_capacity(rows.len());
        for &i in rows {
            m.push(b.get_bit(i as usize));
        }
        m.into()
    });
    let arr = polars_arrow::array::PrimitiveArray::new(arr.dtype().clone(), out.into(), validity);
    ChunkedArray::with_chunk(c.name().clone(), arr)
}

/// The contiguous values of a single-chunk array.
pub(super) fn ts_slice(ts: &Int64Chunked) -> &[i64] {
    ts.downcast_iter()
        .next()
        .map(|a| a.values().as_slice())
        .unwrap_or(&[])
}

/// The step between every two timestamps (across chunks too), if it is one
/// and the same positive step. Stops early where it is not.
pub(super) fn constant_step(ts: &Int64Chunked) -> Option<i64> {
    let mut first_two = ts.downcast_iter().flat_map(|a| a.values().iter());
    let (&a, &b) = (first_two.next()?, first_two.next()?);
    let step = b.checked_sub(a).filter(|s| *s > 0)?;
    every_pair(ts, |x, y| y.wrapping_sub(x) == step).then_some(step)
}

/// Whether the timestamps are in non-decreasing order, across chunks too.
pub(super) fn is_sorted(ts: &Int64Chunked) -> bool {
    every_pair(ts, |x, y| x <= y)
}

/// Whether `ok(x, y)` holds for every two timestamps `x`, `y` next to each
/// other, across chunks too: in parallel over blocks that overlap by one
/// row, and within a block 4096 rows at a time without a branch (a loop the
/// compiler runs several lanes wide), stopping at the first part where not.
fn every_pair(ts: &Int64Chunked, ok: impl Fn(i64, i64) -> bool + Sync) -> bool {
    let mut prev: Option<i64> = None;
    for arr in ts.downcast_iter() {
        let v = arr.values().as_slice();
        let Some(&first) = v.first() else { continue };
        if prev.is_some_and(|p| !ok(p, first)) {
            return false;
        }
        let all = v.par_chunks(1 << 16).enumerate().all(|(b, block)| {
            (b == 0 || ok(v[(b << 16) - 1], block[0]))
                && block.chunks(4096).enumerate().all(|(i, part)| {
                    let (head, tail) = (&part[..part.len() - 1], &part[1..]);
                    (i == 0 || ok(block[i * 4096 - 1], part[0]))
                        && head
                            .iter()
                            .zip(tail)
                            .fold(true, |all, (x, y)| all & ok(*x, *y))
                })
        });
        if !all {
            return false;
        }
        prev = Some(v[v.len() - 1]);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_step_is_checked_across_blocks_and_chunks() {
        let ts = |v: &[i64]| Int64Chunked::from_vec("t".into(), v.to_vec());
        let v: Vec<i64> = (0..300_000).map(|i| 1_000 + 60 * i).collect();
        assert_eq!(constant_step(&ts(&v)), Some(60));
        // One row off where two blocks meet, where two parts of a block
        // meet, inside one, at the very end; a repeated row; a step back.
        for at in [(1 << 16) - 1, 1 << 16, 4096, 4095, 70_001, 299_999] {
            let mut w = v.clone();
            w[at] += 1;
            assert_eq!(constant_step(&ts(&w)), None, "{at}");
        }
        let mut w = v.clone();
        w[5] = w[4];
        assert_eq!(constant_step(&ts(&w)), None);
        assert_eq!(constant_step(&ts(&[5, 3, 1])), None);
        assert_eq!(constant_step(&ts(&[5, 5, 5])), None);
        assert_eq!(constant_step(&ts(&[5])), None);
        assert_eq!(constant_step(&ts(&[i64::MIN, i64::MAX])), None);
        // Across chunks: the seam counts.
        let mut two = ts(&v[..1000]);
        two.append(&ts(&v[1000..])).unwrap();
        assert_eq!(two.chunks().len(), 2);
        assert_eq!(constant_step(&two), Some(60));
        let mut gap = ts(&v[..1000]);
        gap.append(&ts(&v[1001..])).unwrap();
        assert_eq!(constant_step(&gap), None);
    }

    #[test]
    fn sortedness_is_checked_across_blocks() {
        let mut v: Vec<i64> = (0..300_000).collect();
        assert!(is_sorted(&Int64Chunked::from_vec("t".into(), v.clone())));
        // An inversion exactly where two blocks of the parallel check meet.
        v.swap((1 << 16) - 1, 1 << 16);
        assert!(!is_sorted(&Int64Chunked::from_vec("t".into(), v)));
        // And within a block: where its 4096-row parts meet, inside one, at
        // the very end.
        for at in [4095, 4096 * 3, 70_000, 299_998] {
            let mut v: Vec<i64> = (0..300_000).collect();
            v.swap(at, at + 1);
            assert!(!is_sorted(&Int64Chunked::from_vec("t".into(), v)), "{at}");
        }
    }
}
