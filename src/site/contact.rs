//! `/contact`: a form that mails every admin, with the sender as `Reply-To`.
//! Rate limited per client IP; a filled honeypot is dropped silently.

use std::collections::BTreeMap;

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;

use crate::db::Db;
use crate::error::Result;
use crate::ground::dates;
use crate::mail::Mailer;
use crate::site::rate_limits::Limit;
use crate::users::{normalize_email, store};
use crate::web::client_ip::ClientIp;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::forms::FormOutcome;
use crate::web::{Site, View};

pub fn routes() -> Vec<Route> {
    routes![contact_page, contact]
}

#[derive(FromForm)]
struct ContactForm {
    #[field(default = String::new())]
    name: String,
    #[field(default = String::new())]
    email: String,
    #[field(default = String::new())]
    message: String,
    /// Hidden from people; bots fill it.
    #[field(default = String::new())]
    website: String,
}

fn page(
    site: &Site<'_>,
    csrf: &CsrfToken,
    errors: &BTreeMap<&str, String>,
    values: serde_json::Value,
) -> Template {
    View::new("contact.html")
        .title("Contact")
        .with("csrf_token", &csrf.0)
        .with("errors", errors)
        .with("values", values)
        .render(site)
}

#[get("/contact")]
fn contact_page(site: Site<'_>, csrf: CsrfToken) -> Template {
    page(&site, &csrf, &BTreeMap::new(), serde_json::json!({}))
}

const THANKS: &str = "Thank you: your message has been sent.";

#[post("/contact", data = "<form>")]
async fn contact(
    db: &State<Db>,
    mailer: &State<Mailer>,
    site: Site<'_>,
    csrf: CsrfToken,
    ip: ClientIp,
    form: CsrfForm<ContactForm>,
) -> Result<FormOutcome> {
    let f = form.into_inner();
    if !f.website.trim().is_empty() {
        // A bot: it sees success, nobody gets mail.
        return Ok(Ok(Flash::success(Redirect::to("/contact"), THANKS)));
    }
    let mut errors = BTreeMap::new();
    // One line: the name goes into the subject.
    let name = f.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 100 {
        errors.insert(
            "name",
            "Please give a name (at most 100 characters).".to_owned(),
        );
    }
    let email = normalize_email(&f.email)
        .map_err(|m| errors.insert("email", m))
        .ok();
    let message = f.message.trim().to_owned();
    if message.is_empty() || message.chars().count() > 5000 {
        errors.insert(
            "message",
            "Please write a message (at most 5,000 characters).".to_owned(),
        );
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        let values = serde_json::json!({"name": f.name, "email": f.email, "message": f.message});
        return Ok(Err((
            Status::UnprocessableEntity,
            page(&site, &csrf, &errors, values),
        )));
    };
    let limit = Limit {
        bucket: "contact",
        max: site.settings.rates.rate_contact_per_hour,
        window: 3600,
    };
    let (mailer, wake) = (mailer.inner().clone(), mailer.inner().clone());
    db.run(move |c| {
        limit.hit(c, &ip.0, dates::now())?;
        let admins = store::admin_emails(c)?;
        if admins.is_empty() {
            log::warn!("contact message from {email} not sent: the site has no admin");
        }
        c.transaction(|c| {
            for admin in &admins {
                let ctx = serde_json::json!({"name": name, "email": email, "message": message});
                mailer.queue(c, "contact", admin, Some(&email), ctx)?;
            }
            Ok(())
        })
    })
    .await?;
    wake.wake();
    Ok(Ok(Flash::success(Redirect::to("/contact"), THANKS)))
}
