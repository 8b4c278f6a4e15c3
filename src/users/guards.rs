//! Request guards, layered: `Visitor` (anyone, maybe logged in) → `LoggedIn` →
//! `AuthorUser` → `EditorUser` → `AdminUser`. An anonymous visitor on a protected
//! page gets 401, which the catcher turns into a redirect to the login page with
//! `next`; a logged-in user without the role gets 403.

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};

use super::session::{self, Session};
use super::Role;
use crate::db::Db;
use crate::web::identity::{Viewer, ViewerFuture};

/// Whoever sends the request: their session if they are logged in.
#[derive(Debug, Clone)]
pub struct Visitor(pub Option<Session>);

impl Visitor {
    pub fn user(&self) -> Option<&super::User> {
        self.0.as_ref().map(|s| &s.user)
    }
}

async fn load(req: &Request<'_>) -> Option<Session> {
    let token = req
        .cookies()
        .get_private(session::COOKIE)?
        .value()
        .to_owned();
    let db = req.rocket().state::<Db>()?;
    let lookup = token.clone();
    match db.run(move |c| session::lookup(c, &lookup)).await {
        Ok(Some(found)) => {
            // Sliding expiry: the cookie lives as long as the session does.
            if found.renewed {
                let https = req
                    .rocket()
                    .state::<crate::config::Settings>()
                    .is_some_and(crate::config::Settings::https);
                session::set_cookie(req.cookies(), token, https);
            }
            Some(found)
        }
        Ok(None) => None,
        Err(e) => {
            log::error!("session lookup: {e}");
            None
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Visitor {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        // Looked up once per request, whichever guards ask.
        let visitor = req
            .local_cache_async(async { Visitor(load(req).await) })
            .await;
        Outcome::Success(visitor.clone())
    }
}

/// The `web::identity::Identify` hook: the logged-in visitor as pages show them.
pub fn identify<'a>(req: &'a Request<'_>) -> ViewerFuture<'a> {
    Box::pin(async move {
        let Visitor(session) = req.guard::<Visitor>().await.succeeded()?;
        let session = session?;
        Some(Viewer {
            display_name: session.user.shown_name().to_owned(),
            role: serde_json::to_value(session.user.role).unwrap_or_default(),
            username: session.user.username,
            csrf_token: session.csrf_token,
        })
    })
}

/// Any logged-in user.
#[derive(Debug, Clone)]
pub struct LoggedIn(pub Session);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for LoggedIn {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match req.guard::<Visitor>().await {
            Outcome::Success(Visitor(Some(session))) => Outcome::Success(LoggedIn(session)),
            _ => Outcome::Error((Status::Unauthorized, ())),
        }
    }
}

async fn with_role(req: &Request<'_>, role: Role) -> Outcome<Session, ()> {
    match req.guard::<LoggedIn>().await {
        Outcome::Success(LoggedIn(s)) if s.user.role >= role => Outcome::Success(s),
        Outcome::Success(_) => Outcome::Error((Status::Forbidden, ())),
        Outcome::Error(e) => Outcome::Error(e),
        Outcome::Forward(f) => Outcome::Forward(f),
    }
}

macro_rules! role_guard {
    ($name:ident, $role:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone)]
        pub struct $name(pub Session);

        #[rocket::async_trait]
        impl<'r> FromRequest<'r> for $name {
            type Error = ();

            async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
                with_role(req, $role).await.map($name)
            }
        }
    };
}

role_guard!(AuthorUser, Role::Author, "An author, editor or admin.");
role_guard!(EditorUser, Role::Editor, "An editor or admin.");
role_guard!(AdminUser, Role::Admin, "An admin.");
