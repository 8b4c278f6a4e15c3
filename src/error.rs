//! One error type for the whole crate. Each variant keeps what the user may see
//! apart from the cause, which is logged and never sent to a browser.

use rocket::http::Status;
use rocket::response::{self, Responder};
use rocket::Request;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nothing at this address (unknown slug, page past the end…).
    #[error("not found")]
    NotFound,
    /// The request is understood but refused (wrong role, bad CSRF token…).
    #[error("forbidden")]
    Forbidden,
    /// The user sent something we cannot accept; the message says why.
    #[error("{0}")]
    Invalid(String),
    /// Configuration problem, reported once at start-up or by `carnet check`.
    #[error("{0}")]
    Config(String),
    /// Another request wrote the same unique value (a name, an address, a slug)
    /// at the same moment, or the database broke a deadlock: trying again works.
    /// The detail is logged, not shown.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Every database connection stayed busy for the whole bounded wait:
    /// the server is overloaded for a moment; retry after this many seconds.
    #[error("the database is busy: every connection is in use")]
    Unavailable(u64),
    /// Too many requests; retry after this many seconds.
    #[error("too many requests")]
    RateLimited(u64),
    /// The database has migrations that have not been applied yet.
    #[error("the database has {0} pending migration(s): run `carnet migrate` first")]
    PendingMigrations(usize),
    /// Anything else: an internal failure whose cause is logged, not shown.
    #[error("{context}: {cause}")]
    Internal { context: String, cause: String },
}

impl Error {
    /// Wraps an unexpected failure with a short note saying what we were doing.
    pub fn internal(context: impl Into<String>, cause: impl std::fmt::Display) -> Self {
        Error::Internal {
            context: context.into(),
            cause: cause.to_string(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }

    pub fn status(&self) -> Status {
        match self {
            Error::NotFound => Status::NotFound,
            Error::Forbidden => Status::Forbidden,
            Error::Invalid(_) => Status::BadRequest,
            Error::Conflict(_) => Status::Conflict,
            Error::RateLimited(_) => Status::TooManyRequests,
            Error::Unavailable(_) => Status::ServiceUnavailable,
            Error::Config(_) | Error::PendingMigrations(_) | Error::Internal { .. } => {
                Status::InternalServerError
            }
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi;
        match e.sqlite_error().map(|f| f.extended_code) {
            Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
                Error::Conflict(e.to_string())
            }
            _ => Error::internal("database", e),
        }
    }
}

/// How long a busy client is asked to wait before trying again.
pub const RETRY_WHEN_BUSY_SECS: u64 = 5;

/// The pool's only error: no connection came free within its wait.
impl From<r2d2::Error> for Error {
    fn from(e: r2d2::Error) -> Self {
        log::warn!("database pool: {e}");
        Error::Unavailable(RETRY_WHEN_BUSY_SECS)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::internal("i/o", e)
    }
}

impl<'r> Responder<'r, 'static> for Error {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        match &self {
            Error::Invalid(message) => {
                crate::web::errors::page(req, Status::BadRequest, message).respond_to(req)
            }
            Error::Internal { .. } | Error::Config(_) | Error::PendingMigrations(_) => {
                log::error!("{} {}: {}", req.method(), req.uri(), self);
                Err(Status::InternalServerError)
            }
            Error::Conflict(detail) => {
                log::warn!("{} {}: {detail}", req.method(), req.uri());
                let message = "Someone else saved the same thing at the same moment (a name, an \
                    address or a title that must be unique). Go back and send it again.";
                crate::web::errors::page(req, Status::Conflict, message).respond_to(req)
            }
            Error::RateLimited(seconds) => {
                let minutes = seconds.div_ceil(60);
                let message = format!(
                    "You have tried this too many times in a short while. Please wait {} before trying again.",
                    if minutes <= 1 { "a minute".to_owned() } else { format!("{minutes} minutes") }
                );
                let mut res = crate::web::errors::page(req, Status::TooManyRequests, &message)
                    .respond_to(req)?;
                res.set_header(rocket::http::Header::new(
                    "Retry-After",
                    seconds.to_string(),
                ));
                Ok(res)
            }
            Error::Unavailable(seconds) => {
                log::warn!("{} {}: {self}", req.method(), req.uri());
                let mut res = crate::web::errors::page(
                    req,
                    Status::ServiceUnavailable,
                    "The site is very busy right now. Please try again in a few seconds: nothing you sent was kept.",
                )
                .respond_to(req)?;
                res.set_header(rocket::http::Header::new(
                    "Retry-After",
                    seconds.to_string(),
                ));
                Ok(res)
            }
            _ => Err(self.status()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::local::asynchronous::Client;

    #[rocket::get("/")]
    fn clash() -> Result<&'static str> {
        Err(Error::Conflict(
            "UNIQUE constraint failed: tags.slug".into(),
        ))
    }

    #[rocket::async_test]
    async fn a_conflict_is_a_409_page_that_says_to_send_again() {
        let none = std::path::PathBuf::from("/nonexistent-template-overrides");
        let tera = crate::web::templates::engine(&none, "").unwrap();
        let rocket = rocket::build()
            .mount("/", rocket::routes![clash])
            .attach(crate::web::templates::fairing(none, tera));
        let client = Client::untracked(rocket).await.unwrap();
        let res = client.get("/").dispatch().await;
        assert_eq!(res.status(), Status::Conflict);
        let body = res.into_string().await.unwrap();
        assert!(body.contains("send it again"), "{body}");
        assert!(
            !body.contains("tags.slug"),
            "the detail is logged, not shown"
        );
    }
}
