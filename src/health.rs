//! `/healthz`: 200 when the database answers, 503 otherwise.

use rocket::http::Status;
use rocket::{get, State};

use crate::db::Db;
use crate::params;

#[get("/healthz")]
pub async fn healthz(db: &State<Db>) -> (Status, &'static str) {
    let ok = db
        .run(|c| c.query_scalar::<i64>("SELECT 1", params![]))
        .await
        .is_ok_and(|one| one == 1);
    if ok {
        (Status::Ok, "ok")
    } else {
        (Status::ServiceUnavailable, "database unavailable")
    }
}
