//! Who is asking, as far as the web layer needs to know: a logged-in
//! visitor's name, role and CSRF token. The accounts domain looks them up
//! (`users::stage` gives the `Identify` hook at start-up), so pages and the
//! CSRF check never call up into it.

use std::future::Future;
use std::pin::Pin;

use rocket::request::Request;
use serde_json::Value;

/// The private cookie that holds a session token.
pub const SESSION_COOKIE: &str = "carnet_session";

/// A logged-in visitor, as pages show them.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub username: String,
    /// The display name, or the username when unset.
    pub display_name: String,
    /// The role as templates compare it (`"author"`, `"editor"`, `"admin"`…).
    pub role: Value,
    /// The session's CSRF token.
    pub csrf_token: String,
}

pub type ViewerFuture<'a> = Pin<Box<dyn Future<Output = Option<Viewer>> + Send + 'a>>;

/// Finds the logged-in visitor of a request (looked up once per request).
#[derive(Clone, Copy)]
pub struct Identify(pub for<'a, 'r> fn(&'a Request<'r>) -> ViewerFuture<'a>);

/// The logged-in visitor of this request, if any.
pub async fn viewer(req: &Request<'_>) -> Option<Viewer> {
    let Identify(identify) = *req.rocket().state::<Identify>()?;
    identify(req).await
}
