//! Background work started with the server: the mail worker and housekeeping
//! (expired sessions, tokens and rate-limit windows).

use std::time::Duration;

use rocket::fairing::{AdHoc, Fairing};
use rocket::tokio;

use crate::db::Db;
use crate::mail::{worker, Mailer};
use crate::users::{session, tokens};
use crate::web::rate_limit;

const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(3600);

pub fn fairing(db: Db, mailer: Mailer) -> impl Fairing {
    AdHoc::on_liftoff("Background tasks", move |_| {
        let (db, mailer) = (db.clone(), mailer.clone());
        Box::pin(async move {
            tokio::spawn(worker::run(db.clone(), mailer));
            tokio::spawn(housekeeping(db));
        })
    })
}

async fn housekeeping(db: Db) {
    loop {
        let result = db
            .run(|c| {
                let sessions = session::purge_expired(c)?;
                let tokens = tokens::purge(c)?;
                let windows = rate_limit::purge(c, crate::dates::now())?;
                Ok((sessions, tokens, windows))
            })
            .await;
        match result {
            Ok((s, t, w)) if s + t + w > 0 => {
                log::info!("housekeeping: removed {s} sessions, {t} tokens, {w} rate-limit windows")
            }
            Ok(_) => {}
            Err(e) => log::error!("housekeeping: {e}"),
        }
        tokio::time::sleep(HOUSEKEEPING_EVERY).await;
    }
}
