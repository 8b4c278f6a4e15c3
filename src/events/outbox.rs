//! The `events` table (its one owner): recording, claiming and listing events.

use serde_json::Value;

use super::{Event, Kind};
use crate::db::{Conn, Row};
use crate::error::{Error, Result};
use crate::params;

/// Records an event in the caller's transaction.
pub fn record(c: &mut Conn, kind: Kind, subject_id: i64, payload: &Value, now: i64) -> Result<i64> {
    c.insert(
        "INSERT INTO events (kind, subject_id, payload, status, attempts, next_attempt_at, created_at) \
         VALUES (?, ?, ?, 'pending', 0, ?, ?)",
        params![kind.as_str(), subject_id, payload.to_string(), now, now],
    )
}

/// Ids of the events waiting to be handled, oldest first.
pub fn due(c: &mut Conn, now: i64, limit: u32) -> Result<Vec<i64>> {
    c.query(
        "SELECT id FROM events WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
        params![now, limit],
    )?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// When the next event waiting for a retry is due.
pub fn next_due(c: &mut Conn) -> Result<Option<i64>> {
    c.query_scalar(
        "SELECT MIN(next_attempt_at) FROM events WHERE status = 'pending'",
        params![],
    )
}

/// Marks event `id` handled by `instance`, inside the caller's transaction,
/// and returns it; `None` when another instance got to it first. The
/// conditional update takes the row's lock: a second instance waits for the
/// first one's transaction, then finds the event no longer pending.
pub fn claim(c: &mut Conn, id: i64, instance: &str, now: i64) -> Result<Option<Event>> {
    let claimed = c.execute(
        "UPDATE events SET status = 'done', handled_at = ?, handled_by = ? WHERE id = ? AND status = 'pending'",
        params![now, instance, id],
    )?;
    if claimed != 1 {
        return Ok(None);
    }
    c.query_opt(
        "SELECT id, kind, subject_id, payload, created_at FROM events WHERE id = ?",
        params![id],
    )?
    .map(|r| event(&r))
    .transpose()
}

fn event(r: &Row) -> Result<Event> {
    let kind: String = r.get(1)?;
    let payload: String = r.get(3)?;
    Ok(Event {
        id: r.get(0)?,
        kind: Kind::parse(&kind)
            .ok_or_else(|| Error::internal("events", format!("unknown kind {kind}")))?,
        subject_id: r.get(2)?,
        payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
        created_at: r.get(4)?,
    })
}

/// Notes a failed attempt: the event waits until `retry_at`, or is given up
/// (`failed`, kept for an admin to see) when there is none. An event another
/// instance handled meanwhile stays handled.
pub fn failed(c: &mut Conn, id: i64, error: &str, retry_at: Option<i64>) -> Result<()> {
    match retry_at {
        Some(at) => c.execute(
            "UPDATE events SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? \
             WHERE id = ? AND status = 'pending'",
            params![error, at, id],
        ),
        None => c.execute(
            "UPDATE events SET attempts = attempts + 1, last_error = ?, status = 'failed' \
             WHERE id = ? AND status = 'pending'",
            params![error, id],
        ),
    }?;
    Ok(())
}

/// The attempts made so far on event `id`.
pub fn attempts(c: &mut Conn, id: i64) -> Result<u32> {
    let n: Option<i64> = c
        .query_opt("SELECT attempts FROM events WHERE id = ?", params![id])?
        .map(|r| r.get(0))
        .transpose()?;
    Ok(u32::try_from(n.unwrap_or(0)).unwrap_or(u32::MAX))
}

/// An event as `carnet events` lists it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub event: Event,
    pub status: String,
    pub attempts: i64,
    pub handled_at: Option<i64>,
    pub handled_by: Option<String>,
    pub last_error: Option<String>,
}

/// The latest events, newest first.
pub fn recent(c: &mut Conn, limit: u32) -> Result<Vec<Listed>> {
    c.query(
        "SELECT id, kind, subject_id, payload, created_at, status, attempts, handled_at, handled_by, last_error \
         FROM events ORDER BY id DESC LIMIT ?",
        params![limit],
    )?
    .iter()
    .map(|r| {
        Ok(Listed {
            event: event(r)?,
            status: r.get(5)?,
            attempts: r.get(6)?,
            handled_at: r.get(7)?,
            handled_by: r.get(8)?,
            last_error: r.get(9)?,
        })
    })
    .collect()
}

/// Forgets handled events older than `before` (housekeeping); failed ones stay.
pub fn purge(c: &mut Conn, before: i64) -> Result<u64> {
    c.execute(
        "DELETE FROM events WHERE status = 'done' AND handled_at < ?",
        params![before],
    )
}
