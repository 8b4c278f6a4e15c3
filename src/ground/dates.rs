//! Time as stored (Unix seconds, UTC) and as shown (RFC 3339, human dates).

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn at(ts: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(ts).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub fn rfc3339(ts: i64) -> String {
    at(ts).format(&Rfc3339).unwrap_or_default()
}

/// "24 November 2026".
pub fn display(ts: i64) -> String {
    at(ts)
        .format(format_description!(
            "[day padding:none] [month repr:long] [year]"
        ))
        .unwrap_or_default()
}

pub fn year_month_day(ts: i64) -> (i32, u8, u8) {
    let d = at(ts);
    (d.year(), d.month().into(), d.day())
}

pub fn month_name(month: u8) -> &'static str {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    NAMES
        .get(usize::from(month.saturating_sub(1)))
        .copied()
        .unwrap_or("")
}

/// Parses an RFC 3339 timestamp (`2026-11-24T10:00:00Z`).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|d| d.unix_timestamp())
}

/// Parses the editor's `YYYY-MM-DDTHH:MM` (UTC), seconds optional.
pub fn parse_local(s: &str) -> Option<i64> {
    let short = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let long = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(s, short)
        .or_else(|_| PrimitiveDateTime::parse(s, long))
        .ok()
        .map(|d| d.assume_utc().unix_timestamp())
}

/// `Tue, 24 Nov 2026 10:00:00 GMT`.
pub fn http_date(ts: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp(ts).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    at.format(time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    ))
    .unwrap_or_default()
}

/// Delay before attempt `attempts + 1`: base, 2×base, 4×base… capped at one hour.
pub fn backoff(base_secs: u64, attempts: u32) -> i64 {
    let factor = 1u64 << attempts.min(20);
    i64::try_from(base_secs.saturating_mul(factor).min(3600)).unwrap_or(3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        let ts = parse_rfc3339("2026-11-24T10:30:00Z").unwrap();
        assert_eq!(rfc3339(ts), "2026-11-24T10:30:00Z");
        assert_eq!(display(ts), "24 November 2026");
        assert_eq!(parse_local("2026-11-24T10:30"), Some(ts));
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(month_name(11), "November");
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(15, 0), 15);
        assert_eq!(backoff(15, 1), 30);
        assert_eq!(backoff(15, 3), 120);
        assert_eq!(backoff(15, 30), 3600);
    }
}
