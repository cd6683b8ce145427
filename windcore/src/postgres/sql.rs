//! SQL text built from typed values: literals and quoted identifiers.

/// `t` as a timestamptz literal.
pub(super) fn ts_literal(t: chrono::DateTime<chrono::Utc>) -> String {
    // Generated from a typed value, never from user text.
    format!("'{}'::timestamptz", t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00"))
}

/// `s` as an SQL string literal (`'s'`, inner quotes doubled; standard
/// conforming strings, so backslashes are plain characters).
pub(super) fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''").replace('\0', ""))
}

/// `name` as a quoted SQL identifier (`"name"`, inner quotes doubled).
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_literals_and_identifiers() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b\0"), "'a\\b'");
        assert_eq!(quote_ident("We\"ird"), "\"We\"\"ird\"");
        let t = chrono::DateTime::from_timestamp(1_704_067_200, 1_000).unwrap();
        assert_eq!(
            ts_literal(t),
            "'2024-01-01T00:00:00.000001+00:00'::timestamptz"
        );
    }
}
