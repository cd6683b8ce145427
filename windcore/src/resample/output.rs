//! The output frames: the windows of the prepared input as wide columns
//! (a column per statistic) or in long form (a row per statistic).

use std::mem::MaybeUninit;

use polars::prelude::*;
use polars_arrow::array::{Array, MutableBinaryViewArray, Utf8ViewArray, View};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::datatypes::ArrowDataType;
use rayon::prelude::*;

use super::fresh::{unwritten, written};
use super::keys::Segment;
use super::plan::Windows;
use super::prepare::Prepared;
use super::record::{self, Bounds};
use super::{Resampler, Stat};
use crate::error::Result;
use crate::report::Quality;
use crate::schema::{SIGNAL, VALUE};

impl Resampler {
    /// The windows of the input and the names of their columns (and whether
    /// each is a count).
    fn windows(&self, df: &DataFrame, bounds: Bounds) -> Result<(Prepared, Windows, ColumnNames)> {
        let prep = self.prepare(df)?;
        let win = self.compute(&prep, bounds.from);
        let mut names: Vec<(String, bool)> = Vec::new();
        for (var, _, _) in &prep.vars {
            for st in &self.stats {
                names.push((st.signal(var), *st == Stat::Count));
            }
        }
        if prep.record.is_empty() {
            return Ok((prep, win, names));
        }
        let rec = self.record(&prep, bounds, self.label.offset(prep.grid.every));
        names.extend(rec.names.iter().map(|n| (n.clone(), false)));
        let win = record::merge(win, rec, prep.keys.is_some());
        Ok((prep, win, names))
    }

    pub(super) fn wide(&self, df: &DataFrame, bounds: Bounds) -> Result<(DataFrame, Quality)> {
        let (prep, win, names) = self.windows(df, bounds)?;
        let mut columns: Vec<Column> = Vec::with_capacity(1 + win.cols.len());
        if let Some((keys, segs, _)) = &prep.keys {
            columns.extend(key_columns(keys, segs, &win.segs, |_| 1)?);
        }
        let ts = Int64Chunked::from_vec(self.timestamp_column.as_str().into(), win.starts)
            .into_datetime(prep.unit, self.out_tz());
        columns.push(ts.into_series().into());
        for (((name, count), vals), absent) in names.into_iter().zip(win.cols).zip(win.absent) {
            columns.push(stat_column(PlSmallStr::from(name), vals, count, absent));
        }
        Ok((DataFrame::new_infer_height(columns)?, win.quality))
    }

    pub(super) fn long(&self, df: &DataFrame, bounds: Bounds) -> Result<(DataFrame, Quality)> {
        let (prep, win, names) = self.windows(df, bounds)?;
        let names: Vec<String> = names.into_iter().map(|(n, _)| n).collect();
        // The rows of each window (its statistics that exist), then every
        // block of windows written in parallel into its place.
        let cols = &win.cols;
        let per_window: Vec<u32> = (0..win.starts.len())
            .into_par_iter()
            .map(|i| cols.iter().filter(|c| !c[i].is_nan()).count() as u32)
            .collect();
        let total: usize = per_window.iter().map(|&n| n as usize).sum();
        // Every row of these is written below (each block writes the rows it
        // counted), so they need not be zeroed first.
        let mut ts: Vec<MaybeUninit<i64>> = unwritten(total);
        // The signal column's rows are views of the names, written in place.
        let dict = names_dict(&names);
        let name_views = dict.views().as_slice();
        let mut sig: Vec<MaybeUninit<View>> = unwritten(total);
        let mut val: Vec<MaybeUninit<f64>> = unwritten(total);
        const BLOCK: usize = 1 << 14;
        let mut blocks = Vec::with_capacity(win.starts.len() / BLOCK + 1);
        let (mut t_rest, mut s_rest, mut v_rest) = (&mut ts[..], &mut sig[..], &mut val[..]);
        for first in (0..win.starts.len()).step_by(BLOCK) {
            let end = (first + BLOCK).min(win.starts.len());
            let rows: usize = per_window[first..end].iter().map(|&n| n as usize).sum();
            let (t, tr) = std::mem::take(&mut t_rest).split_at_mut(rows);
            let (s, sr) = std::mem::take(&mut s_rest).split_at_mut(rows);
            let (v, vr) = std::mem::take(&mut v_rest).split_at_mut(rows);
            (t_rest, s_rest, v_rest) = (tr, sr, vr);
            blocks.push((first..end, t, s, v));
        }
        blocks.into_par_iter().for_each(|(windows, t, s, v)| {
            let mut o = 0;
            for i in windows {
                for (k, c) in cols.iter().enumerate() {
                    let x = c[i];
                    if !x.is_nan() {
                        t[o].write(win.starts[i]);
                        s[o].write(name_views[k]);
                        v[o].write(x);
                        o += 1;
                    }
                }
            }
            assert_eq!(o, t.len(), "the rows counted for the block");
        });
        // SAFETY: the blocks cover the columns end to end, and each wrote
        // every one of its rows (asserted above).
        let (ts, sig, val) = unsafe { (written(ts), written(sig), written(val)) };
        let mut columns: Vec<Column> = Vec::with_capacity(3 + self.by.len());
        if let Some((keys, segs, _)) = &prep.keys {
            columns.extend(key_columns(keys, segs, &win.segs, |w| per_window[w])?);
        }
        let ts = Int64Chunked::from_vec(self.timestamp_column.as_str().into(), ts)
            .into_datetime(prep.unit, self.out_tz());
        columns.push(ts.into_series().into());
        columns.push(Column::from(Series::from_arrow(
            SIGNAL.into(),
            // SAFETY: each view of `sig` is one of `dict`'s (or the empty view).
            unsafe { sharing(&dict, sig, None) }.boxed(),
        )?));
        // (Handed over as it is: `Column::new` would copy it.)
        columns.push(
            Float64Chunked::from_vec(VALUE.into(), val)
                .into_series()
                .into(),
        );
        Ok((DataFrame::new_infer_height(columns)?, win.quality))
    }
}

/// The names as one string view array, whose views the signal column repeats.
fn names_dict(names: &[String]) -> Utf8ViewArray {
    let mut dict = MutableBinaryViewArray::<str>::with_capacity(names.len());
    for n in names {
        dict.push_value(n.as_str());
    }
    dict.freeze()
}

/// A string column of `views` sharing `arr`'s buffers: 16 bytes a row, no
/// string copied.
///
/// # Safety
/// Every view is one of `arr`'s (valid UTF-8 in its buffers, which the result
/// shares) or an empty view.
unsafe fn sharing(
    arr: &Utf8ViewArray,
    views: Vec<View>,
    validity: Option<Bitmap>,
) -> Utf8ViewArray {
    // SAFETY: as the caller promises.
    unsafe {
        Utf8ViewArray::new_unchecked_unknown_md(
            ArrowDataType::Utf8View,
            views.into(),
            arr.data_buffers().clone(),
            validity,
            Some(arr.total_buffer_len()),
        )
    }
}

/// The names of the output's statistic columns, and whether each is a count.
type ColumnNames = Vec<(String, bool)>;

/// Builds an output column from kernel values, NaN meaning absent (looked
/// for only where `absent` says there may be one).
fn stat_column(name: PlSmallStr, vals: Vec<f64>, count: bool, absent: bool) -> Column {
    let validity = if absent && vals.par_iter().any(|v| v.is_nan()) {
        Some(Bitmap::from_iter(vals.iter().map(|v| !v.is_nan())))
    } else {
        None
    };
    if count {
        let counts: Vec<u32> = vals
            .iter()
            .map(|v| if v.is_nan() { 0 } else { *v as u32 })
            .collect();
        UInt32Chunked::from_vec_validity(name, counts, validity)
            .into_series()
            .into()
    } else {
        Float64Chunked::from_vec_validity(name, vals, validity)
            .into_series()
            .into()
    }
}

/// The key columns of the output: for output row `r` of window `w`, the key
/// of the window's segment; each window is repeated `rows_of(w)` times.
fn key_columns(
    keys: &DataFrame,
    segs: &[Segment],
    win_segs: &[u32],
    rows_of: impl Fn(usize) -> u32 + Sync,
) -> Result<Vec<Column>> {
    // Each window's first output row; every column is written in parallel
    // blocks of windows.
    let mut first: Vec<usize> = Vec::with_capacity(win_segs.len() + 1);
    let mut total = 0usize;
    for w in 0..win_segs.len() {
        first.push(total);
        total += rows_of(w) as usize;
    }
    first.push(total);
    let key_row = |w: usize| segs[win_segs[w] as usize].key_row;
    // The key row of every output row: for the columns that are not one
    // string array (those are repeated view by view).
    let mut idx: Option<Vec<IdxSize>> = None;
    keys.columns()
        .iter()
        .map(|c| {
            let one = c.str().ok().filter(|s| s.chunks().len() == 1);
            match one.and_then(|s| s.downcast_iter().next()) {
                Some(arr) => Ok(Column::from(Series::from_arrow(
                    c.name().clone(),
                    repeat_views(arr, &first, key_row).boxed(),
                )?)),
                None => {
                    let idx = idx.get_or_insert_with(|| {
                        let mut idx = unwritten(total);
                        fill_blocks(&mut idx, &first, |w, out| {
                            out.fill(MaybeUninit::new(key_row(w)))
                        });
                        // SAFETY: `fill_blocks` writes every row.
                        unsafe { written(idx) }
                    });
                    Ok(c.take_slice(idx)?)
                }
            }
        })
        .collect()
}

/// Writes rows `first[w]..first[w + 1]` of `out` by `fill(w, rows)`, for
/// every window `w`, in parallel blocks of windows: with `first[0] == 0` and
/// `out.len()` its last entry, every row (`fill` writing all it is given).
fn fill_blocks<T: Send>(out: &mut [T], first: &[usize], fill: impl Fn(usize, &mut [T]) + Sync) {
    let windows = first.len() - 1;
    const BLOCK: usize = 1 << 14;
    let mut blocks = Vec::with_capacity(windows / BLOCK + 1);
    let mut rest = out;
    for lo in (0..windows).step_by(BLOCK) {
        let hi = (lo + BLOCK).min(windows);
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(first[hi] - first[lo]);
        rest = tail;
        blocks.push((lo..hi, head));
    }
    blocks.into_par_iter().for_each(|(windows, out)| {
        let base = first[windows.start];
        for w in windows {
            fill(w, &mut out[first[w] - base..first[w + 1] - base]);
        }
    });
}

/// A string column whose rows `first[w]..first[w + 1]` repeat row `row(w)`
/// of `arr`: one string view array sharing its buffers (16 bytes a row).
fn repeat_views(
    arr: &Utf8ViewArray,
    first: &[usize],
    row: impl Fn(usize) -> IdxSize + Sync,
) -> Utf8ViewArray {
    let views = arr.views().as_slice();
    let mut out = unwritten(first[first.len() - 1]);
    fill_blocks(&mut out, first, |w, out| {
        out.fill(MaybeUninit::new(views[row(w) as usize]))
    });
    // SAFETY: `fill_blocks` writes every row.
    let out = unsafe { written(out) };
    let validity = arr.validity().filter(|b| b.unset_bits() > 0).map(|b| {
        let mut m = polars_arrow::bitmap::MutableBitmap::with_capacity(out.len());
        for w in 0..first.len() - 1 {
            m.extend_constant(first[w + 1] - first[w], b.get_bit(row(w) as usize));
        }
        Bitmap::from(m)
    });
    // SAFETY: every view was copied from `arr`'s.
    unsafe { sharing(arr, out, validity) }
}
