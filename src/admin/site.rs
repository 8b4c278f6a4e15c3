//! Admin-only pages about the site itself: the mail queue and the settings.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::admin_view;
use crate::db::Db;
use crate::error::Result;
use crate::ground::dates;
use crate::mail::{queue, Mailer};
use crate::site::settings;
use crate::users::guards::AdminUser;
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::forms::{FieldErrors, FormOutcome};
use crate::web::Site;

pub fn routes() -> Vec<Route> {
    routes![mail, retry_mail, settings_page, save_settings]
}

#[derive(Serialize)]
struct MailRow {
    id: i64,
    to: String,
    subject: String,
    status: String,
    attempts: u32,
    last_error: Option<String>,
    created_display: String,
}

#[get("/admin/mail")]
async fn mail(db: &State<Db>, site: Site<'_>, me: AdminUser) -> Result<Template> {
    let (rows, counts) = db
        .run(|c| {
            let rows: Vec<MailRow> = queue::recent(c, 100)?
                .into_iter()
                .map(|e| MailRow {
                    id: e.id,
                    to: e.to,
                    subject: e.subject,
                    status: e.status,
                    attempts: e.attempts,
                    last_error: e.last_error,
                    created_display: dates::display(e.created_at),
                })
                .collect();
            let counts = serde_json::json!({
                "queued": queue::count_by_status(c, "queued")?,
                "sent": queue::count_by_status(c, "sent")?,
                "failed": queue::count_by_status(c, "failed")?,
            });
            Ok((rows, counts))
        })
        .await?;
    Ok(admin_view(db, "admin/mail.html", "mail", &me.0)
        .await?
        .title("Mail")
        .with("messages", rows)
        .with("counts", counts)
        .render(&site))
}

#[post("/admin/mail/retry", data = "<_form>")]
async fn retry_mail(
    db: &State<Db>,
    mailer: &State<Mailer>,
    _me: AdminUser,
    _form: CsrfForm<NoFields>,
) -> Result<Flash<Redirect>> {
    let n = db.run(|c| queue::retry_failed(c, dates::now())).await?;
    mailer.wake();
    Ok(Flash::success(
        Redirect::to("/admin/mail"),
        format!("{n} mail(s) queued again."),
    ))
}

fn current_values(site: &Site<'_>) -> serde_json::Value {
    let s = &site.settings;
    serde_json::json!({
        "site_title": s.site_title,
        "site_description": s.site_description,
        "comments": s.comments,
        "registration": s.registration,
        "posts_per_page": s.posts_per_page.to_string(),
        "comment_blocklist": s.comment_blocklist.join("\n"),
    })
}

#[get("/admin/settings")]
async fn settings_page(db: &State<Db>, site: Site<'_>, me: AdminUser) -> Result<Template> {
    Ok(admin_view(db, "admin/settings.html", "settings", &me.0)
        .await?
        .title("Settings")
        .with("values", current_values(&site))
        .with("errors", FieldErrors::new())
        .render(&site))
}

#[derive(FromForm)]
struct SettingsForm {
    #[field(default = String::new())]
    site_title: String,
    #[field(default = String::new())]
    site_description: String,
    #[field(default = String::new())]
    comments: String,
    #[field(default = String::new())]
    registration: String,
    #[field(default = String::new())]
    posts_per_page: String,
    #[field(default = String::new())]
    comment_blocklist: String,
}

#[post("/admin/settings", data = "<form>")]
async fn save_settings(
    db: &State<Db>,
    site: Site<'_>,
    me: AdminUser,
    form: CsrfForm<SettingsForm>,
) -> Result<FormOutcome> {
    let f = form.into_inner();
    let mut errors = FieldErrors::new();
    let title = f.site_title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 100 {
        errors.insert("site_title", "The title has 1 to 100 characters.".into());
    }
    if f.site_description.chars().count() > 500 {
        errors.insert("site_description", "At most 500 characters.".into());
    }
    if settings::parse_comments(&f.comments).is_none() {
        errors.insert("comments", "Choose open, members or closed.".into());
    }
    if settings::parse_registration(&f.registration).is_none() {
        errors.insert("registration", "Choose open or closed.".into());
    }
    if !matches!(f.posts_per_page.trim().parse::<u32>(), Ok(1..=100)) {
        errors.insert("posts_per_page", "A number from 1 to 100.".into());
    }
    if !errors.is_empty() {
        let values = serde_json::json!({
            "site_title": f.site_title, "site_description": f.site_description, "comments": f.comments,
            "registration": f.registration, "posts_per_page": f.posts_per_page,
            "comment_blocklist": f.comment_blocklist,
        });
        let page = admin_view(db, "admin/settings.html", "settings", &me.0)
            .await?
            .title("Settings")
            .with("values", values)
            .with("errors", &errors)
            .render(&site);
        return Ok(Err((Status::UnprocessableEntity, page)));
    }
    let values = vec![
        ("site_title", title),
        ("site_description", f.site_description.trim().to_owned()),
        ("comments", f.comments),
        ("registration", f.registration),
        ("posts_per_page", f.posts_per_page.trim().to_owned()),
        (
            "comment_blocklist",
            settings::parse_blocklist(&f.comment_blocklist).join("\n"),
        ),
    ];
    db.run(move |c| settings::save(c, &values)).await?;
    Ok(Ok(Flash::success(
        Redirect::to("/admin/settings"),
        "The settings are saved.",
    )))
}
