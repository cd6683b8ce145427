//! The resampler's tests against its own window loop and the long form.

use super::linear::linear;
use super::*;

fn frame(keys: &[&str], ts: &[i64], vals: &[Option<f64>]) -> DataFrame {
    let ts = Int64Chunked::from_vec("timestamp".into(), ts.to_vec())
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    DataFrame::new_infer_height(vec![
        Column::new("asset".into(), keys.to_vec()),
        ts.into_series().into(),
        Column::new("x".into(), vals.to_vec()),
    ])
    .unwrap()
}

#[test]
fn runs_of_keys_read_in_place_agree_with_sorting() {
    const M: i64 = 60_000_000;
    // Day-major runs of two keys, cut in the middle of windows, with a
    // duplicate timestamp where two runs of `a` meet (the later one, in
    // input order, wins): read in place. With a key whose runs come out
    // of time order (`c`), the input is sorted instead.
    let mut rows: Vec<(&str, i64, f64)> = vec![
        ("a", 0, 1.0),
        ("a", M, 2.0),
        ("a", 7 * M, 3.0),
        ("b", 0, 10.0),
        ("b", 5 * M, 11.0),
        ("a", 7 * M, 4.0),
        ("a", 12 * M, 5.0),
        ("b", 13 * M, 12.0),
    ];
    for with_c in [false, true] {
        if with_c {
            rows.extend([("c", 30 * M, 7.0), ("a", 40 * M, 6.0), ("c", 2 * M, 8.0)]);
        }
        let keys: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let ts: Vec<i64> = rows.iter().map(|r| r.1).collect();
        let vals: Vec<Option<f64>> = rows.iter().map(|r| Some(r.2)).collect();
        let df = frame(&keys, &ts, &vals);
        let r = Resampler::builder()
            .by(["asset"])
            .stats(Stat::ALL)
            .build()
            .unwrap();
        let (got, q) = r.resample_wide_with_quality(&df).unwrap();
        // The same rows sorted by key and time (stable) by hand.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by_key(|i| (rows[*i].0, rows[*i].1));
        let keys2: Vec<&str> = order.iter().map(|i| keys[*i]).collect();
        let ts2: Vec<i64> = order.iter().map(|i| ts[*i]).collect();
        let vals2: Vec<Option<f64>> = order.iter().map(|i| vals[*i]).collect();
        let (want, q2) = r
            .resample_wide_with_quality(&frame(&keys2, &ts2, &vals2))
            .unwrap();
        assert!(got.equals_missing(&want), "{got}\n{want}");
        assert_eq!(q, q2);
        assert_eq!(q.duplicates, 1);
        // The duplicate at 7 min: the later row (4.0) is kept.
        let max = got.column("x_max").unwrap().f64().unwrap().get(0);
        assert_eq!(max, Some(4.0));
    }
}

#[test]
fn interleaved_keys_of_every_kind_agree_with_the_rows_sorted_by_hand() {
    // Rows in time order with the keys interleaved (the sorting path):
    // names of up to and over 12 bytes, null names, a second (integer)
    // key, a key whose rows come out of time order, and duplicate
    // timestamps within a key (the later row in input order wins). The
    // same rows sorted by (keys, time) by hand, stably, are read in place.
    const M: i64 = 60_000_000;
    let names = [
        Some("T01"),
        Some("a turbine name of over twelve bytes"),
        None,
        Some("exactly12byt"),
    ];
    let mut rows: Vec<(Option<&str>, i32, i64, f64)> = Vec::new();
    for minute in 0..90i64 {
        for (k, name) in names.iter().enumerate() {
            let t = if k == 3 {
                (89 - minute) * M
            } else {
                minute * M
            };
            rows.push((
                *name,
                (minute % 2) as i32,
                t,
                (minute * 10 + k as i64) as f64,
            ));
        }
        if minute % 17 == 0 {
            rows.push((names[1], (minute % 2) as i32, minute * M, -1.0));
        }
    }
    let build = |rows: &[(Option<&str>, i32, i64, f64)]| {
        let ts = Int64Chunked::from_vec("timestamp".into(), rows.iter().map(|r| r.2).collect())
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        DataFrame::new_infer_height(vec![
            Column::new("asset".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
            Column::new("part".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
            ts.into_series().into(),
            Column::new("x".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
        ])
        .unwrap()
    };
    let mut sorted = rows.clone();
    sorted.sort_by_key(|r| (r.0, r.1, r.2)); // stable; None first, as the resampler orders keys
    let r = Resampler::builder()
        .by(["asset", "part"])
        .stats(Stat::ALL)
        .build()
        .unwrap();
    let (got, q) = r.resample_wide_with_quality(&build(&rows)).unwrap();
    let (want, q2) = r.resample_wide_with_quality(&build(&sorted)).unwrap();
    assert!(got.equals_missing(&want), "{got}\n{want}");
    assert_eq!(q, q2);
    assert_eq!(q.duplicates, 6);
    let assets: Vec<Option<&str>> = got.column("asset").unwrap().str().unwrap().iter().collect();
    // 9 windows x 2 parts.
    assert_eq!(assets.iter().filter(|a| a.is_none()).count(), 18);
    // The duplicates' later rows (-1.0) are kept: the minimum of their windows.
    let min = got.column("x_min").unwrap().f64().unwrap();
    assert_eq!(min.iter().filter(|v| *v == Some(-1.0)).count(), 6);
}

#[test]
fn long_rows_are_the_wide_values_that_exist_with_their_keys() {
    // Every row of the long output (keys, time, signal, value) is written
    // (the library's tests allocate filled with a pattern): a string key
    // (its views repeated) and an integer one (taken by row index).
    const M: i64 = 60_000_000;
    let mut keys = Vec::new();
    let (mut parts, mut ts, mut vals) = (Vec::new(), Vec::new(), Vec::new());
    for minute in 0..500i64 {
        for (k, name) in ["T01", "a turbine name of over twelve bytes"]
            .iter()
            .enumerate()
        {
            keys.push(*name);
            parts.push(k as i32 * 7);
            ts.push(minute * M);
            vals.push(match minute % 13 {
                3 => None,
                5 => Some(f64::NAN),
                _ => Some((minute * 31 % 101) as f64 + k as f64),
            });
        }
    }
    let mut df = frame(&keys, &ts, &vals);
    df.with_column(Column::new("part".into(), parts)).unwrap();
    let r = Resampler::builder()
        .by(["asset", "part"])
        .stats([Stat::Mean, Stat::Std, Stat::Count])
        .build()
        .unwrap();
    let wide = r.resample_wide(&df).unwrap();
    let long = r.resample_long(&df).unwrap();
    let signals = ["x_mean", "x_std", "x_count"];
    let mut want: Vec<(String, i32, i64, String, f64)> = Vec::new();
    for row in 0..wide.height() {
        let get = |c: &str| wide.column(c).unwrap().get(row).unwrap();
        for s in signals {
            let v = get(s);
            if !v.is_null() {
                want.push((
                    get("asset").get_str().unwrap().to_string(),
                    get("part").try_extract().unwrap(),
                    get("timestamp").try_extract().unwrap(),
                    s.to_string(),
                    v.try_extract().unwrap(),
                ));
            }
        }
    }
    assert_eq!(long.height(), want.len());
    for (row, w) in want.iter().enumerate() {
        let get = |c: &str| long.column(c).unwrap().get(row).unwrap();
        let got = (
            get("asset").get_str().unwrap().to_string(),
            get("part").try_extract::<i32>().unwrap(),
            get("timestamp").try_extract::<i64>().unwrap(),
            get("signal").get_str().unwrap().to_string(),
            get("value").try_extract::<f64>().unwrap(),
        );
        assert_eq!(&got, w, "row {row}");
    }
}

#[test]
fn regular_rows_give_the_numbers_of_the_window_loop() {
    // 1-minute rows (from the middle of a window) with a few NaN and
    // nulls; the regular path computes several windows side by side and
    // must give exactly what `linear` or `circular` (directions around
    // north) give window by window, the blocks with a null too.
    const M: i64 = 60_000_000;
    let n = 1_000;
    let ts: Vec<i64> = (0..n).map(|i| (i as i64 + 3) * M).collect();
    for angle in [false, true] {
        let vals: Vec<Option<f64>> = (0..n)
            .map(|i| match i % 97 {
                5 => None,
                11 => Some(f64::NAN),
                _ if angle => Some((((i * 7919) % 1000) as f64 / 25.0 + 340.0) % 360.0),
                _ => Some(((i * 7919) % 1000) as f64 / 7.0 + 0.1),
            })
            .collect();
        let keys = vec!["a"; n];
        let df = frame(&keys, &ts, &vals);
        let angles: &[&str] = if angle { &["x"] } else { &[] };
        let r = Resampler::builder()
            .stats(Stat::ALL)
            .angles(angles.iter().copied())
            .build()
            .unwrap();
        let got = r.resample_wide(&df.drop("asset").unwrap()).unwrap();
        let x: Vec<f64> = vals.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
        let mut k = 0;
        let mut i = 0;
        while i < n {
            let w = ts[i] / (10 * M);
            let mut j = i;
            while j < n && ts[j] / (10 * M) == w {
                j += 1;
            }
            let acc = if angle {
                circular::circular(&x[i..j], true)
            } else {
                linear(&x[i..j], true)
            };
            let col = |name: &str| got.column(name).unwrap().f64().unwrap().get(k);
            let want = |v: f64| Some(v).filter(|v| !v.is_nan());
            assert_eq!(col("x_mean"), want(acc.mean), "{angle} {i}");
            assert_eq!(col("x_min"), want(acc.min), "{angle} {i}");
            assert_eq!(col("x_max"), want(acc.max), "{angle} {i}");
            assert_eq!(col("x_std"), want(acc.std), "{angle} {i}");
            k += 1;
            i = j;
        }
        assert_eq!(k, got.height());
    }
}
