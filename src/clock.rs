//! Wall-clock helpers. Times are Unix milliseconds everywhere in sharetrail.

use chrono::{DateTime, Utc};

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// The UTC calendar day of a timestamp, as `YYYY-MM-DD`: the key of daily rollups and salts.
pub fn day_of(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// RFC 3339 in UTC, as the JSON API writes times.
pub fn iso(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_are_utc_calendar_dates() {
        assert_eq!(super::day_of(0), "1970-01-01");
        assert_eq!(super::day_of(1_795_392_000_000 - 1), "2026-11-22");
        assert_eq!(super::day_of(1_795_392_000_000), "2026-11-23");
    }
}
