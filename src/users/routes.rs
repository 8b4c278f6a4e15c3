//! Account pages: signup with email confirmation, login, logout, password reset,
//! and the profile (name, bio, avatar, password, address).

use std::collections::BTreeMap;

use rocket::form::FromForm;
use rocket::fs::TempFile;
use rocket::http::{CookieJar, Status};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;

use super::guards::{LoggedIn, Visitor};
use super::tokens::{self, Kind};
use super::{normalize_email, normalize_username, password, session, store, Role};
use crate::config::{Registration, Settings};
use crate::db::{Conn, Db};
use crate::error::{Error, Result};
use crate::mail::Mailer;
use crate::media::images::Refusal;
use crate::web::csrf::{self, CsrfForm, CsrfToken, NoFields};
use crate::web::forms::Flag;
use crate::web::rate_limit::{ClientIp, Limit};
use crate::web::{Site, View};
use crate::{dates, params};

pub fn routes() -> Vec<Route> {
    routes![
        login_page,
        login,
        logout,
        signup_page,
        signup,
        confirm,
        resend_page,
        resend,
        reset_page,
        reset_request,
        reset_password_page,
        reset_password,
        profile_page,
        profile_update,
        profile_password,
        profile_email,
    ]
}

/// Field → message, shown next to each field; `_form` for the whole form.
type Errors = BTreeMap<&'static str, String>;

/// A page with a form, its errors and what was typed.
fn form_view(
    name: &'static str,
    csrf: &CsrfToken,
    errors: &Errors,
    values: serde_json::Value,
) -> View {
    View::new(name)
        .with("csrf_token", &csrf.0)
        .with("errors", errors)
        .with("values", values)
}

/// A re-rendered form: 200 when it is only shown, 422 when it comes back with errors.
fn respond(view: View, site: &Site<'_>, errors: &Errors) -> (Status, Template) {
    let status = if errors.is_empty() {
        Status::Ok
    } else {
        Status::UnprocessableEntity
    };
    (status, view.render(site))
}

fn notice(site: &Site<'_>, heading: &str, message: &str) -> Template {
    View::new("accounts/notice.html")
        .title(heading)
        .with("heading", heading)
        .with("message", message)
        .render(site)
}

/// A local path to go to after login; anything else (other sites,
/// `//host`, `/\host`, schemes) falls back to the home page. Characters a URL
/// cannot hold as they are (`/é`, a space, a quote) are percent-encoded, so
/// the redirect is always a valid `Location`.
pub fn safe_next(next: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    const NOT_IN_URL: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'<')
        .add(b'>')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'|')
        .add(b'^');
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && next.len() <= 2000;
    if !local {
        return "/".to_string();
    }
    let encoded = utf8_percent_encode(next, NOT_IN_URL).to_string();
    match rocket::http::uri::Reference::parse(&encoded) {
        Ok(r) if r.scheme().is_none() && r.authority().is_none() => encoded,
        _ => "/".to_string(),
    }
}

fn link(settings: &Settings, path: &str) -> String {
    format!("{}{path}", settings.site_url)
}

fn limit(bucket: &'static str, max: u32, window: i64) -> Limit {
    Limit {
        bucket,
        max,
        window,
    }
}

// ---------------------------------------------------------------- login / logout

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
        &Errors::new(),
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
struct Proven {
    user: super::User,
    hash: Option<String>,
}

/// Checks a password typed by someone who may be guessing. The attempt is
/// counted per IP and as a failure of the account name before argon2 runs, so
/// guesses sent in parallel cannot all slip under the limit; argon2 runs on a
/// blocking thread holding no database connection; a right password gives its
/// count back. `typed` is a username or an address; unknown names cost the
/// same work as known ones and count too, so neither timing nor lock-outs
/// tell which accounts exist.
async fn guarded_check(
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
    let (ip, key) = (ip.to_string(), typed.trim().to_lowercase());
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
    let right = password::verify_apart(password.to_string(), hash).await? && account.is_some();
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
) -> Result<std::result::Result<Flash<Redirect>, (Status, Template)>> {
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
            let mut errors = Errors::new();
            errors.insert("_form", message.to_string());
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
        let fresh = password::hash_apart(pw.to_string()).await?;
        let id = user.id;
        db.run(move |c| {
            c.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?",
                params![fresh, id],
            )
        })
        .await?;
    }
    Ok(Ok(user.id))
}

/// The request's `User-Agent`, trimmed, for the session list.
pub struct UserAgent(Option<String>);

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

// ---------------------------------------------------------------- signup and confirmation

#[derive(FromForm)]
struct SignupForm {
    #[field(default = String::new())]
    username: String,
    #[field(default = String::new())]
    email: String,
    #[field(default = String::new())]
    password: String,
    #[field(default = String::new())]
    password_confirm: String,
}

fn registration_open(settings: &Settings) -> Result<()> {
    match settings.registration {
        Registration::Open => Ok(()),
        Registration::Closed => Err(Error::NotFound),
    }
}

#[get("/accounts/signup")]
fn signup_page(site: Site<'_>, csrf: CsrfToken) -> Result<Template> {
    registration_open(&site.settings)?;
    Ok(form_view(
        "accounts/signup.html",
        &csrf,
        &Errors::new(),
        serde_json::json!({}),
    )
    .title("Sign up")
    .render(&site))
}

/// Checks a new password and its confirmation.
fn check_new_password(errors: &mut Errors, pw: &str, confirm: &str, username: &str) {
    if let Err(message) = password::validate(pw, username) {
        errors.insert("password", message);
    } else if pw != confirm {
        errors.insert("password_confirm", "The two passwords differ.".into());
    }
}

/// What a valid signup form asks for.
enum Signup {
    /// A new account for (username, email).
    New(String, String),
    /// The address already has an account (named here): the visitor is told
    /// the same as for a new one, and the address's owner gets a mail.
    Known(super::User),
}

/// Validates the signup form. A taken username is said (usernames are
/// public); a known address is not (anyone could probe for it).
fn check_signup(c: &mut Conn, f: &SignupForm) -> Result<std::result::Result<Signup, Errors>> {
    let mut errors = Errors::new();
    let username = normalize_username(&f.username)
        .map_err(|m| errors.insert("username", m))
        .ok();
    let email = normalize_email(&f.email)
        .map_err(|m| errors.insert("email", m))
        .ok();
    check_new_password(
        &mut errors,
        &f.password,
        &f.password_confirm,
        username.as_deref().unwrap_or(""),
    );
    if let Some(u) = &username {
        if store::by_username(c, u)?.is_some() {
            errors.insert("username", "This username is taken.".into());
        }
    }
    let (Some(username), Some(email)) = (username, email) else {
        return Ok(Err(errors));
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(match store::by_email(c, &email)? {
        Some(owner) => Signup::Known(owner),
        None => Signup::New(username, email),
    }))
}

#[post("/accounts/signup", data = "<form>")]
async fn signup(
    db: &State<Db>,
    mailer: &State<Mailer>,
    site: Site<'_>,
    csrf: CsrfToken,
    ip: ClientIp,
    form: CsrfForm<SignupForm>,
) -> Result<std::result::Result<Flash<Redirect>, (Status, Template)>> {
    registration_open(&site.settings)?;
    let f = form.into_inner();
    let settings = site.settings.clone();
    let (mailer, wake) = (mailer.inner().clone(), mailer.inner().clone());
    let values = serde_json::json!({"username": f.username, "email": f.email});
    let rate = settings.rates.rate_signup_per_hour;
    let (password, checked) = (f.password.clone(), f);
    // Every attempt counts, so the form cannot be used to probe names quickly.
    let checked = db
        .run(move |c| {
            limit("signup", rate, 3600).hit(c, &ip.0, dates::now())?;
            check_signup(c, &checked)
        })
        .await?;
    let signup = match checked {
        Ok(signup) => signup,
        Err(errors) => {
            let view = form_view("accounts/signup.html", &csrf, &errors, values).title("Sign up");
            return Ok(Err(respond(view, &site, &errors)));
        }
    };
    // Hashed before the database is asked for a connection.
    let hash = match &signup {
        Signup::New(..) => Some(password::hash_apart(password).await?),
        Signup::Known(_) => None,
    };
    db.run(move |c| {
        c.transaction(|c| match signup {
            Signup::New(username, email) => {
                let id = store::create(
                    c,
                    &store::NewUser {
                        username: &username,
                        email: &email,
                        display_name: "",
                        role: Role::Member,
                        password_hash: hash.as_deref(),
                        email_confirmed: false,
                        created_at: dates::now(),
                    },
                )?;
                send_confirmation(
                    c,
                    &mailer,
                    &settings,
                    id,
                    &username,
                    &email,
                    Kind::ConfirmEmail,
                )
            }
            Signup::Known(owner) => {
                let ctx = serde_json::json!({
                    "username": owner.username,
                    "login_link": link(&settings, "/accounts/login"),
                    "reset_link": link(&settings, "/accounts/password-reset"),
                });
                mailer.queue(c, "account_exists", &owner.email, None, ctx)?;
                Ok(())
            }
        })
    })
    .await?;
    wake.wake();
    Ok(Ok(Flash::success(
        Redirect::to("/accounts/login"),
        "Almost done: we sent you a mail with a link to confirm your address. Open it, then log in.",
    )))
}

/// Issues a confirmation token and queues its mail (to `email`).
pub(crate) fn send_confirmation(
    c: &mut Conn,
    mailer: &Mailer,
    settings: &Settings,
    user_id: i64,
    username: &str,
    email: &str,
    kind: Kind,
) -> Result<()> {
    let token = tokens::issue(
        c,
        user_id,
        kind,
        (kind == Kind::ChangeEmail).then_some(email),
    )?;
    let template = if kind == Kind::ChangeEmail {
        "change_email"
    } else {
        "confirm_email"
    };
    let ctx = serde_json::json!({"username": username, "link": link(settings, &format!("/accounts/confirm/{token}"))});
    mailer.queue(c, template, email, None, ctx)?;
    Ok(())
}

#[get("/accounts/confirm/<token>")]
async fn confirm(db: &State<Db>, visitor: Visitor, token: &str) -> Result<Flash<Redirect>> {
    let token = token.to_string();
    let confirmed = db
        .run(move |c| {
            c.transaction(|c| {
                let Some(t) = tokens::redeem(c, &token, &[Kind::ConfirmEmail, Kind::ChangeEmail])? else {
                    return Ok(None);
                };
                match (t.kind, t.data) {
                    (Kind::ChangeEmail, Some(new)) => {
                        if store::by_email(c, &new)?.is_some_and(|u| u.id != t.user_id) {
                            return Err(Error::invalid("Another account now uses this address."));
                        }
                        c.execute(
                            "UPDATE users SET email = ?, email_confirmed = 1, updated_at = ? WHERE id = ?",
                            params![new, dates::now(), t.user_id],
                        )?;
                    }
                    _ => {
                        c.execute(
                            "UPDATE users SET email_confirmed = 1, updated_at = ? WHERE id = ?",
                            params![dates::now(), t.user_id],
                        )?;
                    }
                }
                Ok(Some(t.kind))
            })
        })
        .await?;
    let target = if visitor.0.is_some() {
        "/accounts/profile"
    } else {
        "/accounts/login"
    };
    match confirmed {
        Some(Kind::ChangeEmail) => Ok(Flash::success(
            Redirect::to(target),
            "Your new address is confirmed.",
        )),
        Some(_) => Ok(Flash::success(
            Redirect::to(target),
            "Your address is confirmed: you can log in.",
        )),
        None => Err(Error::invalid(
            "This link is invalid, already used or expired. Ask for a new one from the login page.",
        )),
    }
}

#[derive(FromForm)]
struct EmailForm {
    #[field(default = String::new())]
    email: String,
}

#[get("/accounts/confirm/resend")]
fn resend_page(site: Site<'_>, csrf: CsrfToken) -> Template {
    form_view(
        "accounts/resend.html",
        &csrf,
        &Errors::new(),
        serde_json::json!({}),
    )
    .title("Resend the confirmation mail")
    .render(&site)
}

/// Counts a request against the mail-sending limit (`rate_reset_per_hour`), then
/// finds the active account using `email`, if any. Callers answer the same
/// either way, so the page never tells whether an address is registered.
fn account_for_mail(
    c: &mut Conn,
    settings: &Settings,
    ip: &str,
    email: &str,
) -> Result<Option<super::User>> {
    limit("reset", settings.rates.rate_reset_per_hour, 3600).hit(c, ip, dates::now())?;
    let Ok(email) = normalize_email(email) else {
        return Ok(None);
    };
    Ok(store::by_email(c, &email)?.filter(|u| u.is_active))
}

/// Same answer whether or not the address has an unconfirmed account.
#[post("/accounts/confirm/resend", data = "<form>")]
async fn resend(
    db: &State<Db>,
    mailer: &State<Mailer>,
    site: Site<'_>,
    ip: ClientIp,
    form: CsrfForm<EmailForm>,
) -> Result<Flash<Redirect>> {
    let settings = site.settings.clone();
    let (mailer, wake) = (mailer.inner().clone(), mailer.inner().clone());
    let email = form.into_inner().email;
    db.run(
        move |c| match account_for_mail(c, &settings, &ip.0, &email)? {
            Some(u) if !u.email_confirmed => c.transaction(|c| {
                send_confirmation(
                    c,
                    &mailer,
                    &settings,
                    u.id,
                    &u.username,
                    &u.email,
                    Kind::ConfirmEmail,
                )
            }),
            _ => Ok(()),
        },
    )
    .await?;
    wake.wake();
    Ok(Flash::success(
        Redirect::to("/accounts/login"),
        "If an unconfirmed account uses this address, a new confirmation mail is on its way.",
    ))
}

// ---------------------------------------------------------------- password reset

#[get("/accounts/password-reset")]
fn reset_page(site: Site<'_>, csrf: CsrfToken) -> Template {
    form_view(
        "accounts/password_reset.html",
        &csrf,
        &Errors::new(),
        serde_json::json!({}),
    )
    .title("Reset your password")
    .render(&site)
}

/// Same answer whether or not the address exists.
#[post("/accounts/password-reset", data = "<form>")]
async fn reset_request(
    db: &State<Db>,
    mailer: &State<Mailer>,
    site: Site<'_>,
    ip: ClientIp,
    form: CsrfForm<EmailForm>,
) -> Result<Template> {
    let settings = site.settings.clone();
    let (mailer, wake) = (mailer.inner().clone(), mailer.inner().clone());
    let email = form.into_inner().email;
    db.run(move |c| {
        let Some(user) = account_for_mail(c, &settings, &ip.0, &email)? else {
            return Ok(());
        };
        c.transaction(|c| {
            let token = tokens::issue(c, user.id, Kind::PasswordReset, None)?;
            let ctx = serde_json::json!({
                "username": user.username,
                "link": link(&settings, &format!("/accounts/password-reset/{token}")),
            });
            mailer.queue(c, "password_reset", &user.email, None, ctx)?;
            Ok(())
        })
    })
    .await?;
    wake.wake();
    Ok(notice(
        &site,
        "Check your inbox",
        "If an account uses this address, we have sent it a link to choose a new password. The link works once, for one hour.",
    ))
}

#[derive(FromForm)]
struct NewPasswordForm {
    #[field(default = String::new())]
    password: String,
    #[field(default = String::new())]
    password_confirm: String,
}

const INVALID_RESET: &str = "This link is invalid, already used or expired. Ask for a new one.";

#[get("/accounts/password-reset/<token>")]
async fn reset_password_page(
    db: &State<Db>,
    site: Site<'_>,
    csrf: CsrfToken,
    token: &str,
) -> Result<Template> {
    let key = token.to_string();
    let valid = db
        .run(move |c| tokens::peek(c, &key, &[Kind::PasswordReset]))
        .await?;
    if valid.is_none() {
        return Err(Error::invalid(INVALID_RESET));
    }
    Ok(form_view(
        "accounts/password_reset_confirm.html",
        &csrf,
        &Errors::new(),
        serde_json::json!({}),
    )
    .title("Choose a new password")
    .with("action", format!("/accounts/password-reset/{token}"))
    .render(&site))
}

#[post("/accounts/password-reset/<token>", data = "<form>")]
async fn reset_password(
    db: &State<Db>,
    site: Site<'_>,
    csrf: CsrfToken,
    token: &str,
    form: CsrfForm<NewPasswordForm>,
) -> Result<std::result::Result<Flash<Redirect>, (Status, Template)>> {
    let f = form.into_inner();
    let key = token.to_string();
    let user = db
        .run(move |c| {
            let Some(t) = tokens::peek(c, &key, &[Kind::PasswordReset])? else {
                return Err(Error::invalid(INVALID_RESET));
            };
            store::by_id(c, t.user_id)?.ok_or_else(|| Error::invalid(INVALID_RESET))
        })
        .await?;
    let mut errors = Errors::new();
    check_new_password(
        &mut errors,
        &f.password,
        &f.password_confirm,
        &user.username,
    );
    let outcome = if errors.is_empty() {
        let hash = password::hash_apart(f.password.clone()).await?;
        let key = token.to_string();
        db.run(move |c| {
            c.transaction(|c| {
                if tokens::redeem(c, &key, &[Kind::PasswordReset])?.is_none() {
                    return Err(Error::invalid(INVALID_RESET));
                }
                store::set_password(c, user.id, &hash)?;
                // Following the link proved the address.
                c.execute(
                    "UPDATE users SET email_confirmed = 1 WHERE id = ?",
                    params![user.id],
                )?;
                Ok(())
            })
        })
        .await?;
        Ok(())
    } else {
        Err(errors)
    };
    match outcome {
        Ok(()) => Ok(Ok(Flash::success(
            Redirect::to("/accounts/login"),
            "Your password is changed and you are signed out everywhere. Log in with the new one.",
        ))),
        Err(errors) => {
            let view = form_view(
                "accounts/password_reset_confirm.html",
                &csrf,
                &errors,
                serde_json::json!({}),
            )
            .title("Choose a new password")
            .with("action", format!("/accounts/password-reset/{token}"));
            Ok(Err(respond(view, &site, &errors)))
        }
    }
}

// ---------------------------------------------------------------- profile

fn profile_json(user: &super::User, settings: &Settings) -> serde_json::Value {
    let _ = settings;
    serde_json::json!({
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "bio": user.bio,
        "role": user.role,
        "avatar_url": user.avatar.as_ref().map(|a| format!("/media/{a}")),
    })
}

/// The address waiting for confirmation, if the user asked to change it.
fn pending_email(c: &mut Conn, user_id: i64) -> Result<Option<String>> {
    match c.query_opt(
        "SELECT data FROM tokens WHERE user_id = ? AND kind = 'change_email' AND used_at IS NULL AND expires_at > ? \
         ORDER BY id DESC LIMIT 1",
        params![user_id, dates::now()],
    )? {
        Some(r) => r.get(0),
        None => Ok(None),
    }
}

async fn profile_view(
    db: &Db,
    user: &super::User,
    settings: &Settings,
    csrf: &CsrfToken,
    active: &str,
    errors: &Errors,
    values: serde_json::Value,
) -> Result<View> {
    let id = user.id;
    let pending = db.run(move |c| pending_email(c, id)).await?;
    Ok(form_view("accounts/profile.html", csrf, errors, values)
        .title("Your profile")
        .with("profile", profile_json(user, settings))
        .with("pending_email", pending)
        .with("active_form", active))
}

#[get("/accounts/profile")]
async fn profile_page(
    db: &State<Db>,
    site: Site<'_>,
    csrf: CsrfToken,
    me: LoggedIn,
) -> Result<Template> {
    let view = profile_view(
        db,
        &me.0.user,
        &site.settings,
        &csrf,
        "",
        &Errors::new(),
        serde_json::json!({}),
    )
    .await?;
    Ok(view.render(&site))
}

#[derive(FromForm)]
struct ProfileForm<'r> {
    #[field(default = String::new())]
    display_name: String,
    #[field(default = String::new())]
    bio: String,
    avatar: Option<TempFile<'r>>,
    remove_avatar: Flag,
}

#[post("/accounts/profile", data = "<form>")]
async fn profile_update(
    db: &State<Db>,
    site: Site<'_>,
    csrf: CsrfToken,
    me: LoggedIn,
    form: CsrfForm<ProfileForm<'_>>,
) -> Result<std::result::Result<Flash<Redirect>, (Status, Template)>> {
    let mut f = form.into_inner();
    let user = me.0.user;
    let mut errors = Errors::new();
    let display_name = f.display_name.trim().to_string();
    let bio = f.bio.trim().to_string();
    if display_name.chars().count() > 100 {
        errors.insert("display_name", "At most 100 characters.".into());
    }
    if bio.chars().count() > 2000 {
        errors.insert("bio", "At most 2,000 characters.".into());
    }
    let mut status = Status::UnprocessableEntity;
    let mut new_avatar = None;
    if let Some(file) = f.avatar.as_mut().filter(|f| f.len() > 0) {
        if errors.is_empty() {
            let bytes = crate::media::read_upload(file).await?;
            match crate::media::library::store_avatar(site.settings.media_dir.clone(), bytes).await
            {
                Ok(name) => new_avatar = Some(name),
                Err(refusal) => {
                    if refusal == Refusal::UnsupportedType {
                        status = Status::UnsupportedMediaType;
                    }
                    errors.insert("avatar", refusal.to_string());
                }
            }
        }
    }
    if !errors.is_empty() {
        let values = serde_json::json!({"display_name": f.display_name, "bio": f.bio});
        let view =
            profile_view(db, &user, &site.settings, &csrf, "profile", &errors, values).await?;
        return Ok(Err((status, view.render(&site))));
    }
    let remove = f.remove_avatar.0;
    let media_dir = site.settings.media_dir.clone();
    db.run(move |c| {
        store::update_profile(c, user.id, &display_name, &bio)?;
        if new_avatar.is_some() || remove {
            if let Some(old) = store::set_avatar(c, user.id, new_avatar.as_deref())? {
                // The old file is no longer referenced.
                let _ = std::fs::remove_file(media_dir.join(old));
            }
        }
        Ok(())
    })
    .await?;
    Ok(Ok(Flash::success(
        Redirect::to("/accounts/profile"),
        "Your profile is saved.",
    )))
}

#[derive(FromForm)]
struct PasswordChangeForm {
    #[field(default = String::new())]
    current_password: String,
    #[field(default = String::new())]
    password: String,
    #[field(default = String::new())]
    password_confirm: String,
}

/// Changes the password, ends every session of the user, and starts a fresh one
/// for this browser (the old cookie is dead everywhere, this one included).
#[post("/accounts/profile/password", data = "<form>")]
#[allow(clippy::too_many_arguments)]
async fn profile_password(
    db: &State<Db>,
    site: Site<'_>,
    csrf: CsrfToken,
    me: LoggedIn,
    ip: ClientIp,
    agent: UserAgent,
    jar: &CookieJar<'_>,
    form: CsrfForm<PasswordChangeForm>,
) -> Result<std::result::Result<Flash<Redirect>, (Status, Template)>> {
    let f = form.into_inner();
    let user = me.0.user.clone();
    let user_id = user.id;
    let mut errors = Errors::new();
    let right = guarded_check(
        db,
        &site.settings,
        &ip.0,
        &user.username,
        &f.current_password,
    )
    .await?
    .is_some();
    if !right {
        errors.insert(
            "current_password",
            "This is not your current password.".into(),
        );
    }
    check_new_password(
        &mut errors,
        &f.password,
        &f.password_confirm,
        &user.username,
    );
    let outcome = if errors.is_empty() {
        let hash = password::hash_apart(f.password.clone()).await?;
        Ok(db
            .run(move |c| {
                c.transaction(|c| {
                    store::set_password(c, user_id, &hash)?;
                    session::create(c, user_id, Some(ip.0), agent.0)
                })
            })
            .await?)
    } else {
        Err(errors)
    };
    match outcome {
        Ok(token) => {
            session::set_cookie(jar, token, site.settings.https());
            Ok(Ok(Flash::success(
                Redirect::to("/accounts/profile"),
                "Your password is changed. Every other session has been signed out.",
            )))
        }
        Err(errors) => {
            let view = profile_view(
                db,
                &me.0.user,
                &site.settings,
                &csrf,
                "password",
                &errors,
                serde_json::json!({}),
            )
            .await?;
            Ok(Err(respond(view, &site, &errors)))
        }
    }
}

#[derive(FromForm)]
struct EmailChangeForm {
    #[field(default = String::new())]
    email: String,
    #[field(default = String::new())]
    current_password: String,
}

/// Sends a confirmation link to the new address; the change happens when it is opened.
#[post("/accounts/profile/email", data = "<form>")]
#[allow(clippy::too_many_arguments)]
async fn profile_email(
    db: &State<Db>,
    mailer: &State<Mailer>,
    site: Site<'_>,
    csrf: CsrfToken,
    me: LoggedIn,
    ip: ClientIp,
    form: CsrfForm<EmailChangeForm>,
) -> Result<std::result::Result<Flash<Redirect>, (Status, Template)>> {
    let f = form.into_inner();
    let user = me.0.user.clone();
    let settings = site.settings.clone();
    let (mailer, wake) = (mailer.inner().clone(), mailer.inner().clone());
    let values = serde_json::json!({"email": f.email});
    let right = guarded_check(db, &settings, &ip.0, &user.username, &f.current_password)
        .await?
        .is_some();
    let outcome = db
        .run(move |c| {
            let mut errors = Errors::new();
            let email = normalize_email(&f.email)
                .map_err(|m| errors.insert("email", m))
                .ok();
            if let Some(e) = &email {
                if *e == user.email {
                    errors.insert("email", "This is already your address.".into());
                } else if store::by_email(c, e)?.is_some() {
                    errors.insert("email", "Another account uses this address.".into());
                }
            }
            if !right {
                errors.insert(
                    "current_password",
                    "This is not your current password.".into(),
                );
            }
            match email {
                Some(email) if errors.is_empty() => {
                    c.transaction(|c| {
                        send_confirmation(
                            c,
                            &mailer,
                            &settings,
                            user.id,
                            &user.username,
                            &email,
                            Kind::ChangeEmail,
                        )
                    })?;
                    Ok(Ok(email))
                }
                _ => Ok(Err(errors)),
            }
        })
        .await?;
    wake.wake();
    match outcome {
        Ok(email) => Ok(Ok(Flash::success(
            Redirect::to("/accounts/profile"),
            format!(
                "We sent a confirmation link to {email}. Your address changes when you open it."
            ),
        ))),
        Err(errors) => {
            let view = profile_view(
                db,
                &me.0.user,
                &site.settings,
                &csrf,
                "email",
                &errors,
                values,
            )
            .await?;
            Ok(Err(respond(view, &site, &errors)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_local_and_is_always_a_valid_location() {
        assert_eq!(safe_next("/admin/posts?page=2"), "/admin/posts?page=2");
        assert_eq!(safe_next("/é"), "/%C3%A9");
        assert_eq!(safe_next("/a b\"c"), "/a%20b%22c");
        assert_eq!(safe_next("/posts/x#comments"), "/posts/x#comments");
        for outside in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "admin",
            "",
            "/\n",
        ] {
            assert_eq!(safe_next(outside), "/", "{outside:?}");
        }
        for hostile in ["/%", "/[x]", "/a?b=%zz", "/ünïcödé?q=ü"] {
            let out = safe_next(hostile);
            assert!(
                rocket::http::uri::Reference::parse(&out).is_ok(),
                "{hostile:?} → {out:?}"
            );
        }
    }
}
