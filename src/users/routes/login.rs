//! Logging in and out: the password check with its rate limits, sessions.

use super::{form_view, limit, respond, safe_next};
use crate::config::Settings;
use crate::db::Db;
use crate::error::Result;
use crate::ground::dates;
use crate::site::rate_limits::Limit;
use crate::users::guards::Visitor;
use crate::users::{password, session, store};
use crate::web::client_ip::ClientIp;
use crate::web::csrf::{self, CsrfForm, CsrfToken, NoFields};
use crate::web::forms::{FieldErrors, FormOutcome};
use crate::web::Site;
use rocket::form::FromForm;
use rocket::http::CookieJar;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;

pub fn routes() -> Vec<Route> {
    routes![login_page, login, logout]
}

#[derive(FromForm)]
struct LoginForm {
    #[field(default = String::new())]
    username: String,
    #[field(default = String::new())]
    password: String,
    #[field(default = String::new())]
    next: String,
}

#[get("/accounts/login?<next>")]
fn login_page(site: Site<'_>, csrf: CsrfToken, next: Option<&str>) -> Template {
    let next = next.map(safe_next).unwrap_or_default();
    form_view(
        "accounts/login.html",
        &csrf,
        &FieldErrors::new(),
        serde_json::json!({}),
    )
    .title("Log in")
    .with("next", next)
    .render(&site)
}

/// The per-account limit on wrong passwords, shared by every form that asks
/// for one (login, password and address changes).
fn failure_limit(s: &Settings) -> Limit {
    limit(
        "login-failure",
        s.rates.rate_login_failures_per_account,
        15 * 60,
    )
}

/// A password that turned out right, with its account.
pub(super) struct Proven {
    user: crate::users::User,
    hash: Option<String>,
}

/// Checks a password typed by someone who may be guessing. The attempt is
/// counted per IP and as a failure of the account name before argon2 runs, so
/// guesses sent in parallel cannot all slip under the limit; argon2 runs on a
/// blocking thread holding no database connection; a right password gives its
/// count back. `typed` is a username or an address; unknown names cost the
/// same work as known ones and count too, so neither timing nor lock-outs
/// tell which accounts exist.
pub(super) async fn guarded_check(
    db: &Db,
    s: &Settings,
    ip: &str,
    typed: &str,
    password: &str,
) -> Result<Option<Proven>> {
    let now = dates::now();
    let (per_ip, failures) = (
        limit("login", s.rates.rate_login_per_minute, 60),
        failure_limit(s),
    );
    let (ip, key) = (ip.to_owned(), typed.trim().to_lowercase());
    let (keys, account) = db
        .run(move |c| {
            per_ip.hit(c, &ip, now)?;
            failures.hit(c, &key, now)?;
            let user = if key.contains('@') {
                store::by_email(c, &key)?
            } else {
                store::by_username(c, &key)?
            };
            let mut keys = vec![key.clone()];
            let Some(user) = user else {
                return Ok((keys, None));
            };
            if user.username != key {
                failures.hit(c, &user.username, now)?;
                keys.push(user.username.clone());
            }
            let hash = store::password_hash(c, user.id)?;
            Ok((keys, Some(Proven { user, hash })))
        })
        .await?;
    let hash = account.as_ref().and_then(|a| a.hash.clone());
    let right = password::verify_apart(password.to_owned(), hash).await? && account.is_some();
    if !right {
        return Ok(None);
    }
    db.run(move |c| {
        for key in &keys {
            failures.forgive(c, key, now)?;
        }
        Ok(())
    })
    .await?;
    Ok(account)
}

#[post("/accounts/login", data = "<form>")]
#[allow(clippy::too_many_arguments)]
async fn login(
    db: &State<Db>,
    site: Site<'_>,
    csrf: CsrfToken,
    ip: ClientIp,
    jar: &CookieJar<'_>,
    user_agent: UserAgent,
    form: CsrfForm<LoginForm>,
) -> Result<FormOutcome> {
    let f = form.into_inner();
    match login_user(db, &site.settings, &ip.0, &f.username, &f.password).await? {
        Ok(user_id) => {
            let agent = user_agent.0;
            let token = db
                .run(move |c| session::create(c, user_id, Some(ip.0), agent))
                .await?;
            session::set_cookie(jar, token, site.settings.https());
            csrf::rotate(jar);
            Ok(Ok(Flash::success(
                Redirect::to(safe_next(&f.next)),
                "You are logged in.",
            )))
        }
        Err(message) => {
            let mut errors = FieldErrors::new();
            errors.insert("_form", message.to_owned());
            let view = form_view(
                "accounts/login.html",
                &csrf,
                &errors,
                serde_json::json!({"username": f.username}),
            )
            .title("Log in")
            .with("next", safe_next(&f.next));
            Ok(Err(respond(view, &site, &errors)))
        }
    }
}

/// Checks a login; the user's id, or why they cannot log in. A hash made with
/// older parameters is made again with today's.
async fn login_user(
    db: &Db,
    s: &Settings,
    ip: &str,
    login: &str,
    pw: &str,
) -> Result<std::result::Result<i64, &'static str>> {
    let Some(Proven { user, hash }) = guarded_check(db, s, ip, login, pw).await? else {
        return Ok(Err("Wrong username or password."));
    };
    if !user.is_active {
        return Ok(Err("This account is deactivated."));
    }
    if !user.email_confirmed {
        return Ok(Err(
            "Please confirm your email address first: open the link we mailed you (or ask for a new one below).",
        ));
    }
    if hash.as_deref().is_some_and(password::needs_rehash) {
        let fresh = password::hash_apart(pw.to_owned()).await?;
        let id = user.id;
        db.run(move |c| store::rehash_password(c, id, &fresh))
            .await?;
    }
    Ok(Ok(user.id))
}

/// The request's `User-Agent`, trimmed, for the session list.
pub struct UserAgent(pub Option<String>);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for UserAgent {
    type Error = ();
    async fn from_request(req: &'r rocket::Request<'_>) -> rocket::request::Outcome<Self, ()> {
        let ua = req
            .headers()
            .get_one("User-Agent")
            .map(|s| s.chars().take(200).collect());
        rocket::request::Outcome::Success(UserAgent(ua))
    }
}

#[post("/accounts/logout", data = "<_form>")]
async fn logout(
    db: &State<Db>,
    visitor: Visitor,
    jar: &CookieJar<'_>,
    _form: CsrfForm<NoFields>,
) -> Result<Flash<Redirect>> {
    if let Some(s) = visitor.0 {
        db.run(move |c| session::delete(c, &s.id)).await?;
    }
    session::clear_cookie(jar);
    csrf::rotate(jar);
    Ok(Flash::success(Redirect::to("/"), "You are logged out."))
}
