//! Signing up, with the address confirmed by mail (or resent).

use super::{form_view, limit, link, respond};
use crate::config::{Registration, Settings};
use crate::db::{Conn, Db};
use crate::error::{Error, Result};
use crate::ground::dates;
use crate::mail::Mailer;
use crate::users::guards::Visitor;
use crate::users::tokens::{self, Kind};
use crate::users::{normalize_email, normalize_username, password, store, Role};
use crate::web::client_ip::ClientIp;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::forms::{FieldErrors, FormOutcome};
use crate::web::Site;
use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;

pub fn routes() -> Vec<Route> {
    routes![signup_page, signup, confirm, resend_page, resend]
}

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

pub(super) fn registration_open(settings: &Settings) -> Result<()> {
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
        &FieldErrors::new(),
        serde_json::json!({}),
    )
    .title("Sign up")
    .render(&site))
}

/// Checks a new password and its confirmation.
pub(super) fn check_new_password(
    errors: &mut FieldErrors,
    pw: &str,
    confirm: &str,
    username: &str,
) {
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
    Known(crate::users::User),
}

/// Validates the signup form. A taken username is said (usernames are
/// public); a known address is not (anyone could probe for it).
fn check_signup(c: &mut Conn, f: &SignupForm) -> Result<std::result::Result<Signup, FieldErrors>> {
    let mut errors = FieldErrors::new();
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
) -> Result<FormOutcome> {
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
pub fn send_confirmation(
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
    let token = token.to_owned();
    let confirmed = db
        .run(move |c| {
            c.transaction(|c| {
                let Some(t) = tokens::redeem(c, &token, &[Kind::ConfirmEmail, Kind::ChangeEmail])?
                else {
                    return Ok(None);
                };
                match (t.kind, t.data) {
                    (Kind::ChangeEmail, Some(new)) => {
                        if store::by_email(c, &new)?.is_some_and(|u| u.id != t.user_id) {
                            return Err(Error::invalid("Another account now uses this address."));
                        }
                        store::confirm_email(c, t.user_id, Some(&new), dates::now())?;
                    }
                    _ => {
                        store::confirm_email(c, t.user_id, None, dates::now())?;
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
pub(super) struct EmailForm {
    #[field(default = String::new())]
    pub(super) email: String,
}

#[get("/accounts/confirm/resend")]
fn resend_page(site: Site<'_>, csrf: CsrfToken) -> Template {
    form_view(
        "accounts/resend.html",
        &csrf,
        &FieldErrors::new(),
        serde_json::json!({}),
    )
    .title("Resend the confirmation mail")
    .render(&site)
}

/// Counts a request against the mail-sending limit (`rate_reset_per_hour`), then
/// finds the active account using `email`, if any. Callers answer the same
/// either way, so the page never tells whether an address is registered.
pub(super) fn account_for_mail(
    c: &mut Conn,
    settings: &Settings,
    ip: &str,
    email: &str,
) -> Result<Option<crate::users::User>> {
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
