//! The background worker that empties the mail queue, with exponential back-off.

use std::time::Duration;

use rocket::tokio;

use super::{queue, transport, Mailer};
use crate::db::Db;
use crate::error::Result;
use crate::ground::dates::{self, backoff};

/// How long a claimed message is reserved for the worker that claimed it.
const LEASE_SECS: i64 = 300;
/// The longest the worker sleeps without looking at the queue.
const IDLE: Duration = Duration::from_secs(5);

/// Runs forever: deliver what is due, then sleep until the next due message,
/// a wake-up (new mail queued) or `IDLE`.
pub async fn run(db: Db, mailer: Mailer) {
    let wake = mailer.notified();
    loop {
        if let Err(e) = deliver_due(&db, &mailer).await {
            log::error!("mail queue: {e}");
        }
        let next = db.run(queue::next_due).await.ok().flatten();
        let sleep = match next {
            Some(at) => {
                Duration::from_secs(u64::try_from(at - dates::now()).unwrap_or(0)).min(IDLE)
            }
            None => IDLE,
        };
        if sleep.is_zero() {
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

/// Delivers every message due now; returns how many were sent.
pub async fn deliver_due(db: &Db, mailer: &Mailer) -> Result<usize> {
    let mut sent = 0;
    loop {
        let batch = db
            .run(|c| queue::claim_due(c, dates::now(), LEASE_SECS, 10))
            .await?;
        if batch.is_empty() {
            return Ok(sent);
        }
        for item in batch {
            let settings = mailer.settings();
            let outcome = transport::deliver(settings, item.id, &item.message).await;
            let (base, max) = (settings.mail_retry_base_secs, settings.mail_max_attempts);
            let id = item.id;
            match outcome {
                Ok(_) => {
                    sent += 1;
                    db.run(move |c| queue::mark_sent(c, id, dates::now()))
                        .await?;
                }
                Err(error) => {
                    let attempts = item.attempts + 1;
                    let retry_at =
                        (attempts < max).then(|| dates::now() + backoff(base, attempts - 1));
                    match retry_at {
                        Some(_) => log::warn!(
                            "mail {id} to {}: attempt {attempts} failed: {error}",
                            item.message.to
                        ),
                        None => log::error!(
                            "mail {id} to {}: giving up after {attempts} attempts: {error}",
                            item.message.to
                        ),
                    }
                    db.run(move |c| queue::mark_attempt_failed(c, id, &error, retry_at))
                        .await?;
                }
            }
        }
    }
}
