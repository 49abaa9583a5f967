//! Timestamps in the database: UTC, RFC 3339 with millisecond precision and a `Z`, fixed width so
//! that text order is time order (portable across SQLite and PostgreSQL).

use chrono::{DateTime, SecondsFormat, Utc};

pub fn fmt(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn fmt_opt(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(fmt)
}

pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
