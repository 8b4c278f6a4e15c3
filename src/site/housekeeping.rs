//! Housekeeping, started with the server and run every hour: expired
//! sessions, tokens and rate-limit windows; sent mails, handled events and
//! outbox files past `mail_retention_days`.

use std::time::Duration;

use rocket::fairing::{AdHoc, Fairing};
use rocket::tokio;

use crate::config::Settings;
use crate::db::Db;
use crate::site::rate_limits;
use crate::users::{session, tokens};

const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(3600);

pub fn fairing(db: Db, settings: Settings) -> impl Fairing {
    AdHoc::on_liftoff("Housekeeping", move |_| {
        let (db, settings) = (db.clone(), settings);
        Box::pin(async move {
            tokio::spawn(housekeeping(db, settings));
        })
    })
}

async fn housekeeping(db: Db, settings: Settings) {
    let keep = i64::from(settings.mail_retention_days) * 24 * 3600;
    loop {
        let result = db
            .run(move |c| {
                let now = crate::ground::dates::now();
                let sessions = session::purge_expired(c)?;
                let tokens = tokens::purge(c)?;
                let windows = rate_limits::purge(c, now)?;
                let mails = crate::mail::queue::purge(c, now - keep)?;
                let events = crate::events::outbox::purge(c, now - keep)?;
                Ok((sessions, tokens, windows, mails + events))
            })
            .await;
        let outbox = settings.outbox_dir();
        let files = tokio::task::spawn_blocking(move || {
            crate::mail::transport::purge_outbox(&outbox, Duration::from_secs(keep.unsigned_abs()))
        })
        .await
        .unwrap_or(0);
        match result {
            Ok((s, t, w, m)) if s + t + w + m + files > 0 => log::info!(
                "housekeeping: removed {s} sessions, {t} tokens, {w} rate-limit windows, {m} old mails and events, {files} outbox files"
            ),
            Ok(_) => {}
            Err(e) => log::error!("housekeeping: {e}"),
        }
        tokio::time::sleep(HOUSEKEEPING_EVERY).await;
    }
}
