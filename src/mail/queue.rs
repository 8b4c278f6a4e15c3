//! The mail queue table: insert, claim due messages, record the outcome.

use super::Message;
use crate::db::{Conn, Row};
use crate::error::Result;
use crate::params;

/// A queued message as the worker sees it.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: i64,
    pub message: Message,
    pub attempts: u32,
}

/// A row of the queue as the admin sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: i64,
}

pub fn insert(c: &mut Conn, m: &Message, now: i64) -> Result<i64> {
    c.insert(
        "INSERT INTO mail_queue (to_addr, reply_to, subject, body_text, body_html, status, attempts, next_attempt_at, created_at) \
         VALUES (?, ?, ?, ?, ?, 'queued', 0, ?, ?)",
        params![&m.to, m.reply_to.as_deref(), &m.subject, &m.text, &m.html, now, now],
    )
}

fn queued(r: &Row) -> Result<Queued> {
    Ok(Queued {
        id: r.get(0)?,
        message: Message {
            to: r.get(1)?,
            reply_to: r.get(2)?,
            subject: r.get(3)?,
            text: r.get(4)?,
            html: r.get(5)?,
        },
        attempts: r.get(6)?,
    })
}

/// Claims up to `limit` due messages for `lease` seconds, so that two workers
/// (two instances on one database) never send the same message at once.
pub fn claim_due(c: &mut Conn, now: i64, lease: i64, limit: u32) -> Result<Vec<Queued>> {
    let rows = c.query(
        "SELECT id, to_addr, reply_to, subject, body_text, body_html, attempts, next_attempt_at FROM mail_queue \
         WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
        params![now, limit],
    )?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in &rows {
        let due: i64 = row.get(7)?;
        let taken = c.execute(
            "UPDATE mail_queue SET next_attempt_at = ? WHERE id = ? AND status = 'queued' AND next_attempt_at = ?",
            params![now + lease, row.get::<i64>(0)?, due],
        )?;
        if taken == 1 {
            claimed.push(queued(row)?);
        }
    }
    Ok(claimed)
}

/// When the next message is due, if any is queued.
pub fn next_due(c: &mut Conn) -> Result<Option<i64>> {
    c.query_scalar(
        "SELECT MIN(next_attempt_at) FROM mail_queue WHERE status = 'queued'",
        params![],
    )
}

/// Records a delivery. The body is dropped at once: it may hold a password
/// reset or confirmation link, or the text of a comment deleted since, and it
/// is never needed again; the metadata (to, subject, state, times) stays until
/// `purge`.
pub fn mark_sent(c: &mut Conn, id: i64, now: i64) -> Result<()> {
    c.execute(
        "UPDATE mail_queue SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL, \
         body_text = '', body_html = '' WHERE id = ?",
        params![now, id],
    )?;
    Ok(())
}

/// Forgets sent and failed mails created before `before` (housekeeping, after
/// `mail_retention_days`); queued mails are kept whatever their age.
pub fn purge(c: &mut Conn, before: i64) -> Result<u64> {
    c.execute(
        "DELETE FROM mail_queue WHERE status IN ('sent', 'failed') AND created_at < ?",
        params![before],
    )
}

/// Records a failed attempt: retried at `retry_at`, or marked `failed` when there is none.
pub fn mark_attempt_failed(
    c: &mut Conn,
    id: i64,
    error: &str,
    retry_at: Option<i64>,
) -> Result<()> {
    match retry_at {
        Some(at) => c.execute(
            "UPDATE mail_queue SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
            params![error, at, id],
        )?,
        None => c.execute(
            "UPDATE mail_queue SET attempts = attempts + 1, last_error = ?, status = 'failed' WHERE id = ?",
            params![error, id],
        )?,
    };
    Ok(())
}

/// Failed messages go back to the queue (the admin's "retry").
pub fn retry_failed(c: &mut Conn, now: i64) -> Result<u64> {
    c.execute(
        "UPDATE mail_queue SET status = 'queued', attempts = 0, next_attempt_at = ? WHERE status = 'failed'",
        params![now],
    )
}

pub fn count_by_status(c: &mut Conn, status: &str) -> Result<i64> {
    c.query_scalar(
        "SELECT COUNT(*) FROM mail_queue WHERE status = ?",
        params![status],
    )
}

/// The most recent messages, newest first.
pub fn recent(c: &mut Conn, limit: u32) -> Result<Vec<Entry>> {
    c.query(
        "SELECT id, to_addr, subject, status, attempts, last_error, created_at FROM mail_queue ORDER BY id DESC LIMIT ?",
        params![limit],
    )?
    .iter()
    .map(|r| {
        Ok(Entry {
            id: r.get(0)?,
            to: r.get(1)?,
            subject: r.get(2)?,
            status: r.get(3)?,
            attempts: r.get(4)?,
            last_error: r.get(5)?,
            created_at: r.get(6)?,
        })
    })
    .collect()
}
