//! Rate limits (owner of the `rate_limits` table): fixed-window counters in the database, so every instance on
//! one database shares them and they survive restarts.

use crate::db::Conn;
use crate::error::{Error, Result};
use crate::params;

/// A limit: at most `max` hits per `window` seconds for one subject.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub bucket: &'static str,
    pub max: u32,
    pub window: i64,
}

/// The stored form of a subject: as is when short, its SHA-256 otherwise, so a
/// typed login name of any length fits every backend's key column.
fn subject_key(subject: &str) -> std::borrow::Cow<'_, str> {
    if subject.len() <= 64 {
        return subject.into();
    }
    crate::ground::tokens::digest(subject).into()
}

impl Limit {
    fn window_start(&self, now: i64) -> i64 {
        now - now.rem_euclid(self.window)
    }

    fn hits(&self, c: &mut Conn, subject: &str, start: i64) -> Result<i64> {
        Ok(c.query_opt(
            "SELECT hits FROM rate_limits WHERE bucket = ? AND subject = ? AND window_start = ?",
            params![self.bucket, subject_key(subject).as_ref(), start],
        )?
        .map(|r| r.get::<i64>(0))
        .transpose()?
        .unwrap_or(0))
    }

    /// Fails with `RateLimited` when the subject is already at the limit.
    pub fn check(&self, c: &mut Conn, subject: &str, now: i64) -> Result<()> {
        let start = self.window_start(now);
        if self.hits(c, subject, start)? >= i64::from(self.max) {
            return Err(self.refused(start, now));
        }
        Ok(())
    }

    /// The refusal, with the seconds left in the window.
    fn refused(&self, start: i64, now: i64) -> Error {
        Error::RateLimited(u64::try_from(start + self.window - now).unwrap_or(1).max(1))
    }

    /// Counts one hit.
    pub fn record(&self, c: &mut Conn, subject: &str, now: i64) -> Result<()> {
        let start = self.window_start(now);
        let subject = subject_key(subject);
        let subject = subject.as_ref();
        // One statement, so two instances counting the first hit of a window at
        // the same moment cannot collide on the key.
        let sql = format!(
            "INSERT INTO rate_limits (bucket, subject, window_start, hits) VALUES (?, ?, ?, 1) {}",
            c.increment_on_conflict("rate_limits", "bucket, subject, window_start", "hits")
        );
        c.execute(&sql, params![self.bucket, subject, start])?;
        Ok(())
    }

    /// Counts this hit, then refuses it past the limit (the count is then
    /// rolled back). Counting first holds the row's lock on every backend, so
    /// requests sent in parallel cannot all read a count under the limit.
    pub fn hit(&self, c: &mut Conn, subject: &str, now: i64) -> Result<()> {
        c.transaction(|c| {
            self.record(c, subject, now)?;
            let start = self.window_start(now);
            if self.hits(c, subject, start)? > i64::from(self.max) {
                return Err(self.refused(start, now));
            }
            Ok(())
        })
    }
}

impl Limit {
    /// Takes back one hit counted at `now` (a login that turned out right:
    /// failures are counted before the check so parallel guesses cannot all
    /// slip under the limit, and a success gives its count back).
    pub fn forgive(&self, c: &mut Conn, subject: &str, now: i64) -> Result<()> {
        c.execute(
            "UPDATE rate_limits SET hits = hits - 1 WHERE bucket = ? AND subject = ? AND window_start = ? AND hits > 0",
            params![self.bucket, subject_key(subject).as_ref(), self.window_start(now)],
        )?;
        Ok(())
    }
}

/// Forgets windows that ended more than a day ago (housekeeping).
pub fn purge(c: &mut Conn, now: i64) -> Result<u64> {
    c.execute(
        "DELETE FROM rate_limits WHERE window_start < ?",
        params![now - 2 * 24 * 3600],
    )
}
