//! `/healthz`: 200 when the database answers, 503 otherwise.

use rocket::http::Status;
use rocket::{get, State};

use crate::db::Db;

#[get("/healthz")]
pub async fn healthz(db: &State<Db>) -> (Status, &'static str) {
    let ok = db.run(|c| c.ping()).await.is_ok();
    if ok {
        (Status::Ok, "ok")
    } else {
        (Status::ServiceUnavailable, "database unavailable")
    }
}
