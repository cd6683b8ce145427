//! The dashboard at `/`: plain HTML, CSS and JavaScript (no build step) and
//! the vendored charting library uPlot (MIT, `vendor/`), all embedded in
//! the binary. Static files are served under names carrying a hash of
//! their content (`/static/app.3f2a9c1b04de.js`), cached for a year, so a
//! new build is never mixed with an old cached file; the page itself is not
//! cached. Nothing is loaded from another host: it works offline.
//!
//! The page talks to the same routes the API documents: `/info`,
//! `/assets`, `/coverage`, `/availability`, `/data`, `/signals`,
//! `/signals/names`, `/etl/run`, `/generate`. `app.js` is the page (its
//! controls, views, table and actions); `charts.js` draws a variable's
//! samples and statistics, `calendar.js` the coverage calendar,
//! `operator.js` the operator's charts (power curve, wind rose, farm view,
//! availability calendar), with the helpers of `common.js`; the page loads
//! them as one script.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// uPlot's version, as vendored from the npm registry.
pub const UPLOT_VERSION: &str = "1.6.32";

struct Asset {
    /// The name in the page's template, e.g. `app.js`.
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        // One script: what the others share, the charts, the calendar and the
        // operator's charts, then the page that calls them.
        bytes: concat!(
            include_str!("common.js"),
            "\n",
            include_str!("charts.js"),
            "\n",
            include_str!("calendar.js"),
            "\n",
            include_str!("operator.js"),
            "\n",
            include_str!("app.js")
        )
        .as_bytes(),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("app.css"),
    },
    Asset {
        name: "uPlot.iife.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("vendor/uPlot.iife.min.js"),
    },
    Asset {
        name: "uPlot.min.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("vendor/uPlot.min.css"),
    },
    Asset {
        name: "uPlot.LICENSE.txt",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("vendor/LICENSE"),
    },
];

const TEMPLATE: &str = include_str!("index.html");

/// FNV-1a, 64 bits: enough to tell builds of a file apart.
fn content_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", h >> 16)
}

/// `app.js` → `app.<hash>.js`.
fn hashed_name(a: &Asset) -> String {
    let hash = content_hash(a.bytes);
    match a.name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{}.{hash}", a.name),
    }
}

struct Built {
    index: String,
    /// (hashed name, asset)
    files: Vec<(String, &'static Asset)>,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let mut index = TEMPLATE.replace("{{version}}", env!("CARGO_PKG_VERSION"));
        index = index.replace("{{uplot_version}}", UPLOT_VERSION);
        let mut files = Vec::new();
        for a in ASSETS {
            let h = hashed_name(a);
            index = index.replace(&format!("{{{{{}}}}}", a.name), &format!("/static/{h}"));
            files.push((h, a));
        }
        Built { index, files }
    })
}

/// `GET /`: the page.
pub(crate) async fn index() -> Response {
    let mut resp = built().index.clone().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// `GET /static/{file}`: an embedded file under its hashed name.
pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    let Some((_, a)) = built().files.iter().find(|(h, _)| *h == file) else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such file (static files are named with a hash of their content; reload the page)",
        )
        .into_response();
    };
    let mut resp = a.bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_every_file_by_its_hash() {
        let b = built();
        assert!(!b.index.contains("{{"), "unfilled placeholder");
        for (h, a) in &b.files {
            assert_ne!(h, a.name);
            assert!(
                b.index.contains(&format!("/static/{h}")),
                "{h} not in the page"
            );
        }
        assert_ne!(content_hash(b"a"), content_hash(b"b"));
        assert_eq!(content_hash(b"a").len(), 12);
    }
}
