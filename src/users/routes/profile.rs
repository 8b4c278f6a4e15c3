//! The profile: name, bio, avatar, password and address.

use super::login::{guarded_check, UserAgent};
use super::signup::{check_new_password, send_confirmation};
use super::{form_view, respond};
use crate::config::Settings;
use crate::db::Db;
use crate::error::Result;
use crate::ground::dates;
use crate::mail::Mailer;
use crate::media::images::Refusal;
use crate::users::guards::LoggedIn;
use crate::users::tokens::{self, Kind};
use crate::users::{normalize_email, password, session, store};
use crate::web::client_ip::ClientIp;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::forms::{FieldErrors, Flag, FormOutcome};
use crate::web::{Site, View};
use rocket::form::FromForm;
use rocket::fs::TempFile;
use rocket::http::{CookieJar, Status};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;

pub fn routes() -> Vec<Route> {
    routes![
        profile_page,
        profile_update,
        profile_password,
        profile_email
    ]
}

fn profile_json(user: &crate::users::User, settings: &Settings) -> serde_json::Value {
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

async fn profile_view(
    db: &Db,
    user: &crate::users::User,
    settings: &Settings,
    csrf: &CsrfToken,
    active: &str,
    errors: &FieldErrors,
    values: serde_json::Value,
) -> Result<View> {
    let id = user.id;
    let pending = db
        .run(move |c| tokens::pending_email(c, id, dates::now()))
        .await?;
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
        &FieldErrors::new(),
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
) -> Result<FormOutcome> {
    let mut f = form.into_inner();
    let user = me.0.user;
    let mut errors = FieldErrors::new();
    let display_name = f.display_name.trim().to_owned();
    let bio = f.bio.trim().to_owned();
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
) -> Result<FormOutcome> {
    let f = form.into_inner();
    let user = me.0.user.clone();
    let user_id = user.id;
    let mut errors = FieldErrors::new();
    if !is_current(db, &site.settings, &ip, &user.username, &f.current_password).await? {
        errors.insert("current_password", WRONG_CURRENT.into());
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

const WRONG_CURRENT: &str = "This is not your current password.";

/// Whether `typed` is the user's current password; checked (and rate
/// limited) like a login, so a stolen session cannot guess it.
async fn is_current(
    db: &Db,
    settings: &Settings,
    ip: &ClientIp,
    username: &str,
    typed: &str,
) -> Result<bool> {
    Ok(guarded_check(db, settings, &ip.0, username, typed)
        .await?
        .is_some())
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
) -> Result<FormOutcome> {
    let f = form.into_inner();
    let user = me.0.user.clone();
    let settings = site.settings.clone();
    let (mailer, wake) = (mailer.inner().clone(), mailer.inner().clone());
    let values = serde_json::json!({"email": f.email});
    let right = is_current(db, &settings, &ip, &user.username, &f.current_password).await?;
    let outcome = db
        .run(move |c| {
            let mut errors = FieldErrors::new();
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
                errors.insert("current_password", WRONG_CURRENT.into());
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
