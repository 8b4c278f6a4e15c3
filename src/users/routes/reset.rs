//! Password reset by mail.

use super::signup::{account_for_mail, check_new_password, EmailForm};
use super::{form_view, link, notice, respond};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::ground::dates;
use crate::mail::Mailer;
use crate::users::tokens::{self, Kind};
use crate::users::{password, store};
use crate::web::client_ip::ClientIp;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::forms::{FieldErrors, FormOutcome};
use crate::web::Site;
use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;

pub fn routes() -> Vec<Route> {
    routes![
        reset_page,
        reset_request,
        reset_password_page,
        reset_password
    ]
}

#[get("/accounts/password-reset")]
fn reset_page(site: Site<'_>, csrf: CsrfToken) -> Template {
    form_view(
        "accounts/password_reset.html",
        &csrf,
        &FieldErrors::new(),
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
    let key = token.to_owned();
    let valid = db
        .run(move |c| tokens::peek(c, &key, &[Kind::PasswordReset]))
        .await?;
    if valid.is_none() {
        return Err(Error::invalid(INVALID_RESET));
    }
    Ok(form_view(
        "accounts/password_reset_confirm.html",
        &csrf,
        &FieldErrors::new(),
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
) -> Result<FormOutcome> {
    let f = form.into_inner();
    let key = token.to_owned();
    let user = db
        .run(move |c| {
            let Some(t) = tokens::peek(c, &key, &[Kind::PasswordReset])? else {
                return Err(Error::invalid(INVALID_RESET));
            };
            store::by_id(c, t.user_id)?.ok_or_else(|| Error::invalid(INVALID_RESET))
        })
        .await?;
    let mut errors = FieldErrors::new();
    check_new_password(
        &mut errors,
        &f.password,
        &f.password_confirm,
        &user.username,
    );
    let outcome = if errors.is_empty() {
        let hash = password::hash_apart(f.password.clone()).await?;
        let key = token.to_owned();
        db.run(move |c| {
            c.transaction(|c| {
                if tokens::redeem(c, &key, &[Kind::PasswordReset])?.is_none() {
                    return Err(Error::invalid(INVALID_RESET));
                }
                store::set_password(c, user.id, &hash)?;
                // Following the link proved the address.
                store::confirm_email(c, user.id, None, dates::now())?;
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
