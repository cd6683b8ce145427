//! File sources: exports shaped like real ones, read through `FileSource`.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use polars::prelude::*;
use windcore::{Extract, FileOptions, FileSource, SourceLayout, TimeRange, Zone};

fn layout(time: &str, asset: Option<&str>, zone: Option<&str>) -> SourceLayout {
    SourceLayout {
        table: "files".into(),
        time_column: time.into(),
        asset_column: asset.map(Into::into),
        naive_timezone: zone.map(|z| z.parse::<Zone>().unwrap()),
    }
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn all() -> TimeRange {
    TimeRange::new(utc("2000-01-01T00:00:00Z"), utc("2040-01-01T00:00:00Z")).unwrap()
}

fn write(path: &Path, text: &str) {
    std::fs::File::create(path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

fn micros(df: &DataFrame) -> Vec<i64> {
    df.column("timestamp")
        .unwrap()
        .as_materialized_series()
        .datetime()
        .unwrap()
        .physical()
        .into_no_null_iter()
        .collect()
}

fn floats(df: &DataFrame, c: &str) -> Vec<f64> {
    df.column(c)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect()
}

#[tokio::test]
async fn farm_csv_with_offsets_comments_and_a_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("farm.csv");
    write(
        &p,
        "# exported by SCADA 4.2\n# site: Kelmarsh\n\
         Date and time,Wind_turbine_name,Wind speed (m/s),Power (kW)\n\
         2025-10-26T02:30:00+02:00,T01,5.0,100\n\
         2025-10-26T02:30:00+02:00,T02,6.0,\n\
         2025-10-26T02:30:00+01:00,T01,7.0,300\n\
         2025-10-26T02:40:00+01:00,T01,oops,1\n\
         not a time,T01,1,1\n\
         2025-10-26T02:50:00+01:00,T02,NaN,NA\n",
    );
    let src = FileSource::open(
        p.to_str().unwrap(),
        &layout("Date and time", Some("Wind_turbine_name"), None),
        &FileOptions::default(),
        None,
    )
    .unwrap();
    assert_eq!(src.variables(), ["Wind speed (m/s)", "Power (kW)"]);
    let report = src.report();
    assert_eq!(
        (report.files, report.rows, report.bad_rows.count),
        (1, 4, 2)
    );
    assert_eq!(report.bad_rows.first[0].line, 7);
    assert!(
        report.bad_rows.first[0]
            .reason
            .contains("`oops` in column `Wind speed (m/s)` is not a number"),
        "{:?}",
        report.bad_rows
    );
    assert_eq!(report.bad_rows.first[1].line, 8);
    assert!(report.bad_rows.first[1].reason.contains("not a time"));
    let df = src.extract(all(), &src.variables()).await.unwrap();
    assert_eq!(
        df.get_column_names(),
        ["timestamp", "asset", "Wind speed (m/s)", "Power (kW)"]
    );
    let t = micros(&df);
    // 02:30+02:00 and 02:30+01:00 are an hour apart: the repeated DST hour.
    assert_eq!(t[0], utc("2025-10-26T00:30:00Z").timestamp_micros());
    assert_eq!(t[2], utc("2025-10-26T01:30:00Z").timestamp_micros());
    assert_eq!(floats(&df, "Wind speed (m/s)")[..3], [5.0, 6.0, 7.0]);
    assert!(floats(&df, "Power (kW)")[1].is_nan());
    assert!(floats(&df, "Power (kW)")[3].is_nan());
}

#[tokio::test]
async fn semicolon_decimal_comma_files_and_assets_from_file_names() {
    let dir = tempfile::tempdir().unwrap();
    for (turbine, speed) in [("WT1", "4,5"), ("WT2", "5,25")] {
        write(
            &dir.path().join(format!("Turbine_Data_{turbine}_2024.csv")),
            &format!(
                "# Turbine data\n# column descriptions follow\n\
                 time;Wind speed (m/s);Power (kW)\n\
                 2024-03-01 00:00:00;{speed};1234,5\n\
                 2024-03-01 00:10:00;{speed};-1\n"
            ),
        );
    }
    let opts = FileOptions {
        asset_pattern: Some(r"Turbine_Data_(\w+?)_\d{4}".into()),
        ..FileOptions::default()
    };
    let pattern = format!("{}/Turbine_Data_*.csv", dir.path().display());
    let src = FileSource::open(&pattern, &layout("time", None, None), &opts, None).unwrap();
    assert_eq!(src.assets(), ["WT1", "WT2"]);
    let df = src.extract(all(), &src.variables()).await.unwrap();
    assert_eq!(floats(&df, "Wind speed (m/s)"), [4.5, 4.5, 5.25, 5.25]);
    assert_eq!(floats(&df, "Power (kW)"), [1234.5, -1.0, 1234.5, -1.0]);
    let assets: Vec<&str> = df
        .column("asset")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap())
        .collect();
    assert_eq!(assets, ["WT1", "WT1", "WT2", "WT2"]);
    assert_eq!(src.report().bad_rows.count, 0);
    assert!(FileSource::open(
        &format!("{}/*.xlsx", dir.path().display()),
        &layout("time", None, None),
        &opts,
        None
    )
    .unwrap_err()
    .to_string()
    .contains("no file matches"));
    let err = FileSource::open(&pattern, &layout("ts", None, None), &opts, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no time column `ts`") && err.contains("Wind speed (m/s)"),
        "{err}"
    );
}

#[tokio::test]
async fn toa5_logger_file_with_naive_local_times() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("CR1000_Mast_Table10.dat");
    write(
        &p,
        "\"TOA5\",\"Mast01\",\"CR1000\",\"1234\",\"CR1000.Std.32\",\"CPU:mast.CR1\",\"5678\",\"Table10\"\r\n\
         \"TIMESTAMP\",\"RECORD\",\"WS_80m_Avg\",\"WD_80m\",\"AirT_C\"\r\n\
         \"TS\",\"RN\",\"meters/second\",\"degrees\",\"Deg C\"\r\n\
         \"\",\"\",\"Avg\",\"Smp\",\"Avg\"\r\n\
         \"2024-07-01 12:00:00\",0,7.1,355,\"NAN\"\r\n\
         \"2024-07-01 12:10:00\",1,7.3,5,18.5\r\n",
    );
    let src = FileSource::open(
        p.to_str().unwrap(),
        &layout("timestamp", None, Some("Europe/Berlin")),
        &FileOptions::default(),
        None,
    )
    .unwrap();
    // RECORD is the logger's row counter, not a channel.
    assert_eq!(src.variables(), ["WS_80m_Avg", "WD_80m", "AirT_C"]);
    let df = src.extract(all(), &src.variables()).await.unwrap();
    assert_eq!(
        micros(&df)[0],
        utc("2024-07-01T10:00:00Z").timestamp_micros()
    );
    assert!(floats(&df, "AirT_C")[0].is_nan());
    assert_eq!(floats(&df, "WD_80m"), [355.0, 5.0]);
    assert_eq!(src.report().bad_rows.count, 0);
}

#[tokio::test]
async fn compressed_csv_and_parquet_with_epoch_millis() {
    let dir = tempfile::tempdir().unwrap();
    let text = "timestamp,power\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:01Z,2\n";
    let gz = dir.path().join("a.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    let zst = dir.path().join("b.csv.zst");
    std::fs::write(
        &zst,
        zstd::encode_all(text.replace(",1\n", ",10\n").as_bytes(), 3).unwrap(),
    )
    .unwrap();
    let pq = dir.path().join("c.parquet");
    let t0 = utc("2024-01-01T00:00:02Z").timestamp_millis();
    let mut df = df!(
        "ms" => [t0, t0 + 1000, t0 + 2000],
        "turbine" => ["x", "x", "x"],
        "power" => [Some(3.0), None, Some(5.0)],
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&pq).unwrap())
        .finish(&mut df)
        .unwrap();
    let src = FileSource::open(
        dir.path().to_str().unwrap(),
        &layout("timestamp", None, None),
        &FileOptions::default(),
        None,
    );
    // The Parquet file has no `timestamp` column and no time-typed column.
    let err = src.unwrap_err().to_string();
    assert!(
        err.contains("c.parquet") && err.contains("ms, turbine, power"),
        "{err}"
    );
    std::fs::remove_file(&pq).unwrap();
    let src = FileSource::open(
        dir.path().to_str().unwrap(),
        &layout("timestamp", None, None),
        &FileOptions::default(),
        None,
    )
    .unwrap();
    let df = src.extract(all(), &["power".to_string()]).await.unwrap();
    // a.csv.gz then b.csv.zst, in path order: the duplicates stay, later file last.
    assert_eq!(floats(&df, "power"), [1.0, 2.0, 10.0, 2.0]);
    let dir2 = tempfile::tempdir().unwrap();
    let pq2 = dir2.path().join("c.parquet");
    ParquetWriter::new(std::fs::File::create(&pq2).unwrap())
        .finish(
            &mut df!(
                "ms" => [t0, t0 + 1000], "power" => [Some(3.0), None]
            )
            .unwrap(),
        )
        .unwrap();
    let opts = FileOptions {
        time_format: windcore::TimeFormat::EpochMillis,
        ..FileOptions::default()
    };
    let src = FileSource::open(
        pq2.to_str().unwrap(),
        &layout("ms", None, None),
        &opts,
        None,
    )
    .unwrap();
    let df = src.extract(all(), &["power".to_string()]).await.unwrap();
    assert_eq!(micros(&df), [t0 * 1000, t0 * 1000 + 1_000_000]);
}
