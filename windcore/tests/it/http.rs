//! HttpSource against a scripted HTTP server: error statuses, aborted bodies,
//! unreachable servers. (Its agreement with the PostgreSQL extract through a
//! real `windcore-cli serve` is tested in windcore-cli/tests/serve.rs.)

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use windcore::{Day, Error, Extract, HttpFormat, HttpSource, Location};

/// Serves `response` (raw bytes) to every connection; returns the base URL.
async fn scripted(response: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(response).await;
            let _ = s.shutdown().await;
        }
    });
    format!("http://{addr}")
}

fn vars() -> Vec<String> {
    vec!["power".to_string()]
}

fn day() -> Day {
    "2024-01-01".parse().unwrap()
}

#[tokio::test]
async fn decodes_a_json_day() {
    let url = scripted(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n\
          1\r\n[\r\n48\r\n{\"timestamp\":\"2024-01-01T00:00:00Z\",\"power\":12.5},{\"timestamp\":\"2024-01-\r\n\
          22\r\n01T00:01:00Z\",\"power\":null}      ]\r\n0\r\n\r\n",
    )
    .await;
    let src = HttpSource::new(&url).unwrap().format(HttpFormat::Json);
    let df = src.extract(day().range(), &vars()).await.unwrap();
    assert_eq!(df.height(), 2);
    let p = df.column("power").unwrap().f64().unwrap();
    assert_eq!((p.get(0), p.get(1)), (Some(12.5), None));
}

#[tokio::test]
async fn an_api_error_is_reported_with_its_detail() {
    let url = scripted(
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 62\r\n\r\n{\"error\":\"database_unavailable\",\"detail\":\"connection refused\"}",
    )
    .await;
    let err = HttpSource::new(&url)
        .unwrap()
        .extract(day().range(), &vars())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("503") && msg.contains("connection refused"),
        "{msg}"
    );

    let url = scripted(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 51\r\n\r\n{\"error\":\"invalid_parameter\",\"detail\":\"end: bad\"}  ").await;
    let msg = HttpSource::new(&url)
        .unwrap()
        .extract(day().range(), &vars())
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("400") && msg.contains("end: bad"), "{msg}");
}

#[tokio::test]
async fn an_aborted_stream_is_an_error_not_a_short_day() {
    let url = scripted(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\n[\r\n30\r\n{\"timestamp\":\"2024-01-01T00:00:00Z\",\"power\":1.0}\r\n",
    )
    .await;
    let err = HttpSource::new(&url)
        .unwrap()
        .format(HttpFormat::Json)
        .extract(day().range(), &vars())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("aborted"), "{err}");
    // A peer that cut its stream: worth a retry.
    assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn unreachable_servers_and_bad_variables_are_clear_errors() {
    // A port nothing listens on.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let src = HttpSource::new(&format!("http://127.0.0.1:{port}")).unwrap();
    let err = src.extract(day().range(), &vars()).await.unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
    let err = src
        .extract(day().range(), &["rotor".to_string()])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownVariable { .. }));
    // Through Location, as the CLI opens it.
    let loc: Location = format!("http://127.0.0.1:{port}").parse().unwrap();
    assert!(loc.open_source().await.is_ok());
    assert!(loc.open_target().await.is_err());
}
