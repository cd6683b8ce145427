//! The predecessors of a day: each asset's last valid sample of each counter
//! and state channel before the day (at most one day earlier), which carry
//! counters and states across midnight. Every source supplies them through
//! [`Extract::predecessors`](crate::Extract::predecessors); the pipeline puts
//! them before the day's samples and fingerprints them with the day.

use std::collections::HashMap;

use chrono::TimeDelta;
use polars::prelude::*;

use crate::error::Result;
use crate::frame::{column, utc_micros};
use crate::schema::{ASSET, TIMESTAMP};

/// How far before a day's start a predecessor may lie: one day (24 h).
pub const LOOKBACK: TimeDelta = TimeDelta::days(1);

/// The last valid (not NULL, not NaN) sample of each of `channels` per asset
/// in `samples`: one row per (asset, channel), its other channels NULL. Of
/// rows with the same timestamp the later one counts. Rows in asset, then
/// channel order.
pub fn last_valid(samples: &DataFrame, channels: &[String]) -> Result<DataFrame> {
    let ts = utc_micros(column(samples, TIMESTAMP)?)?;
    let assets = match samples.column(ASSET) {
        Ok(a) => Some(a.cast(&DataType::String)?.str()?.rechunk().into_owned()),
        Err(_) => None,
    };
    // Per (asset, chosen row): the channels whose last valid sample it holds
    // (one row for several channels, so that no two rows of an asset share
    // a timestamp).
    let mut chosen: std::collections::BTreeMap<(Option<&str>, usize), Vec<&String>> =
        std::collections::BTreeMap::new();
    for ch in channels {
        let Ok(col) = samples.column(ch) else {
            continue;
        };
        let vals = col.cast(&DataType::Float64)?;
        let vals = vals.f64()?;
        // Per asset: (time, row) of the last valid sample.
        let mut last: HashMap<Option<&str>, (i64, usize)> = HashMap::new();
        for (i, (t, v)) in ts.iter().zip(vals.iter()).enumerate() {
            let (Some(t), Some(v)) = (t, v) else { continue };
            if v.is_nan() {
                continue;
            }
            let a = assets.as_ref().and_then(|a| a.get(i));
            let e = last.entry(a).or_insert((t, i));
            if t >= e.0 {
                *e = (t, i);
            }
        }
        for (a, (_, i)) in last {
            chosen.entry((a, i)).or_default().push(ch);
        }
    }
    let idx = IdxCa::from_vec(
        PlSmallStr::EMPTY,
        chosen.keys().map(|(_, i)| *i as IdxSize).collect(),
    );
    let mut out = samples.take(&idx)?;
    // A channel is kept only in the rows chosen for it.
    for ch in channels {
        let Ok(col) = out.column(ch) else { continue };
        let keep: BooleanChunked = chosen.values().map(|chs| Some(chs.contains(&ch))).collect();
        let nulls = Column::full_null(ch.as_str().into(), out.height(), col.dtype());
        let kept = col
            .as_materialized_series()
            .zip_with(&keep, nulls.as_materialized_series())?;
        out.with_column(Column::from(kept))?;
    }
    Ok(out)
}

/// `pred` shaped like `day` (the same columns, in the same order and of the
/// same types; columns it lacks are NULL), so the two can be stacked.
pub(crate) fn align_to(pred: &DataFrame, day: &DataFrame) -> Result<DataFrame> {
    let mut cols: Vec<Column> = Vec::with_capacity(day.width());
    for c in day.columns() {
        let col = match pred.column(c.name()) {
            Ok(p) => p.cast(c.dtype())?,
            Err(_) => Column::full_null(c.name().clone(), pred.height(), c.dtype()),
        };
        cols.push(col);
    }
    Ok(DataFrame::new_infer_height(cols)?)
}
