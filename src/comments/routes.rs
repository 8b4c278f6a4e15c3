//! Posting comments, and the one-click unsubscribe from reply notifications.
//! Who may comment follows the `comments` setting and the post's own switch;
//! bots meet a honeypot, a minimum time, a rate limit, a link cap and a blocklist.

use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;

use super::form::{
    mark_form_shown, pending_ids, permission, remember_pending, Permission, SHOWN_AT,
};
use super::store;
use crate::blog::links;
use crate::blog::routes::{post_page, CommentsShown};
use crate::config::Settings;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::ground::tokens::{digest, random_token};
use crate::ground::{dates, markdown};
use crate::site::rate_limits::Limit;
use crate::users::guards::Visitor;
use crate::users::normalize_email;
use crate::web::client_ip::ClientIp;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::forms::{FieldErrors, Flag, FormOutcome};
use crate::web::Site;

pub fn routes() -> Vec<Route> {
    routes![create, unsubscribe]
}

#[derive(FromForm, Debug)]
pub struct CommentForm {
    #[field(default = String::new())]
    pub body: String,
    #[field(default = String::new())]
    pub author_name: String,
    #[field(default = String::new())]
    pub author_email: String,
    pub parent: Option<i64>,
    /// Honeypot: hidden from people.
    #[field(default = String::new())]
    pub website: String,
    pub notify: Flag,
}

/// Why a comment is spam, if it is.
fn spam_reason(settings: &Settings, body: &str, name: &str, email: &str) -> Option<&'static str> {
    let links = body.matches("http://").count()
        + body.matches("https://").count()
        + body.matches("www.").count();
    if links > settings.comment_max_links {
        return Some("too many links");
    }
    let haystack = format!("{body}\n{name}\n{email}").to_lowercase();
    settings
        .comment_blocklist
        .iter()
        .any(|word| !word.is_empty() && haystack.contains(word.as_str()))
        .then_some("blocklist")
}

#[derive(Debug)]
struct Validated {
    body: String,
    name: String,
    email: String,
}

fn validate(f: &CommentForm, visitor: &Visitor) -> std::result::Result<Validated, FieldErrors> {
    let mut errors = FieldErrors::new();
    let body = f.body.trim().to_owned();
    if body.is_empty() {
        errors.insert("body", "Write something first.".into());
    } else if body.chars().count() > 5000 {
        errors.insert("body", "At most 5,000 characters.".into());
    }
    let (name, email) = match visitor.user() {
        Some(u) => (u.shown_name().to_owned(), u.email.clone()),
        None => {
            let name = f
                .author_name
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if name.is_empty() || name.chars().count() > 100 {
                errors.insert(
                    "author_name",
                    "Give a name (at most 100 characters).".into(),
                );
            }
            let email = normalize_email(&f.author_email).unwrap_or_else(|m| {
                errors.insert("author_email", m);
                String::new()
            });
            (name, email)
        }
    };
    if errors.is_empty() {
        Ok(Validated { body, name, email })
    } else {
        Err(errors)
    }
}

/// What the commenter is told after sending, next to the form
/// (a flash of this kind is shown there, not at the top of the page).
pub const FLASH_KIND: &str = "comment";
const AWAITING: &str = "Thank you! Your comment is awaiting moderation. Only you can see it until a moderator approves it.";

#[post("/posts/<slug>/comments", data = "<form>")]
#[allow(clippy::too_many_arguments)]
async fn create(
    db: &State<Db>,
    site: Site<'_>,
    visitor: Visitor,
    csrf: CsrfToken,
    ip: ClientIp,
    jar: &CookieJar<'_>,
    slug: &str,
    form: CsrfForm<CommentForm>,
) -> Result<FormOutcome> {
    let f = form.into_inner();
    let key = slug.to_owned();
    let (post_id, enabled) = db
        .run(move |c| crate::blog::posts::comment_target(c, &key, dates::now()))
        .await?
        .ok_or(Error::NotFound)?;
    match permission(&site.settings, &visitor, enabled) {
        Permission::Allowed => {}
        Permission::Closed => return Err(Error::Forbidden),
        Permission::LoginRequired | Permission::ConfirmRequired => return Err(Error::Forbidden),
    }
    // Every attempt counts, whatever becomes of it: a flood gets 429.
    let (client, rate) = (ip.0.clone(), site.settings.rates.rate_comments_per_minute);
    db.run(move |c| {
        Limit {
            bucket: "comment",
            max: rate,
            window: 60,
        }
        .hit(c, &client, dates::now())
    })
    .await?;
    let form_anchor = format!("{}#leave-a-comment", links::post(slug));
    // A filled honeypot is a bot: it alone is dropped, looking accepted.
    if !f.website.trim().is_empty() {
        return Ok(Ok(Flash::new(
            Redirect::to(form_anchor),
            FLASH_KIND,
            AWAITING,
        )));
    }
    let v = match validate(&f, &visitor) {
        Ok(v) => v,
        Err(errors) => {
            let values = serde_json::json!({"body": f.body, "author_name": f.author_name, "author_email": f.author_email});
            // The page holding the comment being answered, if any.
            let shown = CommentsShown {
                page: None,
                reply_to: f.parent,
                pending: pending_ids(jar),
            };
            let page = post_page(
                db,
                &site,
                &visitor,
                &csrf,
                slug,
                shown,
                Some((errors, values)),
            )
            .await?
            .render(&site);
            mark_form_shown(jar);
            return Ok(Err((Status::UnprocessableEntity, page)));
        }
    };
    // A form sent faster than a person writes is a hint of a bot, not proof
    // (a paste, an autofill, a short "thanks!"): an anonymous comment then
    // waits for a moderator; a member with a confirmed address is trusted.
    let member = visitor.user().is_some_and(|u| u.email_confirmed);
    let shown_at = jar
        .get_private(SHOWN_AT)
        .and_then(|c| c.value().parse::<i64>().ok());
    let too_fast =
        !member && shown_at.is_none_or(|t| dates::now() - t < site.settings.comment_min_seconds);
    let settings = site.settings.clone();
    let user = visitor.user().cloned();
    let parent = f.parent;
    let notify_wanted = f.notify.0;
    let client = ip.0;
    let outcome = db
        .run(move |c| {
            if let Some(p) = parent {
                if !store::is_approved_on(c, p, post_id)? {
                    return Err(Error::invalid(
                        "The comment you replied to is not there anymore.",
                    ));
                }
            }
            let status = if spam_reason(&settings, &v.body, &v.name, &v.email).is_some() {
                "spam"
            } else if member {
                "approved"
            } else if too_fast {
                "pending"
            } else {
                // A visitor's address is trusted once a moderator approved one of its
                // anonymous comments; a member's address never is (anyone can type it).
                if store::address_trusted(c, &v.email)? {
                    "approved"
                } else {
                    "pending"
                }
            };
            let unsubscribe = notify_wanted.then(random_token);
            let html = markdown::render_comment(&v.body);
            let hash = unsubscribe.as_deref().map(digest);
            let comment = store::NewComment {
                post_id,
                parent_id: parent,
                user_id: user.as_ref().map(|u| u.id),
                author_name: &v.name,
                author_email: &v.email,
                body: &v.body,
                body_html: &html,
                status,
                ip: Some(&client),
                notify_replies: notify_wanted,
                unsubscribe_hash: hash.as_deref(),
                created_at: dates::now(),
            };
            // Mail to moderators and to a parent's author follows from the
            // events this records (`comments::notify`).
            let id = store::insert(c, &comment)?;
            Ok((id, status))
        })
        .await?;
    let (id, status) = outcome;
    Ok(Ok(match status {
        "approved" => Flash::new(
            Redirect::to(format!("{}?comment={id}#comment-{id}", links::post(slug))),
            FLASH_KIND,
            "Your comment is published.",
        ),
        // Pending or quarantined as spam: either way a moderator decides, and
        // the writer sees it, marked, where they wrote it.
        _ => {
            remember_pending(jar, slug, id, site.settings.https());
            Flash::new(
                Redirect::to(format!("{}#comment-{id}", links::post(slug))),
                FLASH_KIND,
                AWAITING,
            )
        }
    }))
}

/// One click from a notification mail stops replies notifications for that comment.
#[get("/comments/unsubscribe/<id>/<token>")]
async fn unsubscribe(db: &State<Db>, site: Site<'_>, id: i64, token: &str) -> Result<Template> {
    let hash = digest(token);
    let changed = db.run(move |c| store::unsubscribe(c, id, &hash)).await?;
    if changed == 0 {
        return Err(Error::invalid("This unsubscribe link is not valid."));
    }
    Ok(crate::web::View::new("accounts/notice.html")
        .title("Unsubscribed")
        .with("heading", "Unsubscribed")
        .with(
            "message",
            "You will not get mail about replies to this comment any more.",
        )
        .render(&site))
}
