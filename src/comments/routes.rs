//! Posting comments, and the one-click unsubscribe from reply notifications.
//! Who may comment follows the `comments` setting and the post's own switch;
//! bots meet a honeypot, a minimum time, a rate limit, a link cap and a blocklist.

use rocket::form::FromForm;
use rocket::http::{Cookie, CookieJar, Status};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;

use super::notify;
use crate::blog::routes::{post_page, CommentsShown};
use crate::config::{CommentsMode, Settings};
use crate::db::{Conn, Db};
use crate::error::{Error, Result};
use crate::mail::Mailer;
use crate::users::guards::Visitor;
use crate::users::normalize_email;
use crate::users::session::{digest, random_token};
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::forms::Flag;
use crate::web::rate_limit::{ClientIp, Limit};
use crate::web::Site;
use crate::{dates, markdown, params};

pub fn routes() -> Vec<Route> {
    routes![create, unsubscribe]
}

/// Remembers, for this visitor only, the comments they sent that wait for a
/// moderator, so the post page can show them where they were written. A
/// private cookie scoped to the post's path: other pages stay cacheable.
pub const PENDING: &str = crate::web::cache::PENDING_COOKIE;
/// The most pending comments a visitor's cookie remembers per post.
const PENDING_KEPT: usize = 20;

/// The ids of this visitor's comments awaiting moderation on the post `slug`.
pub fn pending_ids(jar: &CookieJar<'_>) -> Vec<i64> {
    jar.get_private(PENDING)
        .map(|c| {
            c.value()
                .split(',')
                .filter_map(|id| id.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn remember_pending(jar: &CookieJar<'_>, slug: &str, id: i64, https: bool) {
    let mut ids = pending_ids(jar);
    ids.push(id);
    let start = ids.len().saturating_sub(PENDING_KEPT);
    let value = ids[start..]
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    jar.add_private(
        Cookie::build((PENDING, value))
            .path(format!("/posts/{slug}"))
            .http_only(true)
            .secure(https)
            .same_site(rocket::http::SameSite::Lax)
            .max_age(rocket::time::Duration::days(7)),
    );
}

/// When this visitor was last shown a comment form (private cookie, so it cannot be forged).
pub const SHOWN_AT: &str = "carnet_form_shown";

/// Remembers that a comment form was just shown.
pub fn mark_form_shown(jar: &CookieJar<'_>) {
    jar.add_private(
        Cookie::build((SHOWN_AT, dates::now().to_string()))
            .path("/")
            .http_only(true),
    );
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

/// What may happen with a comment form on a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Allowed,
    Closed,
    LoginRequired,
    ConfirmRequired,
}

pub fn permission(settings: &Settings, visitor: &Visitor, post_enabled: bool) -> Permission {
    let user = visitor.user();
    match (settings.comments, post_enabled) {
        (CommentsMode::Closed, _) | (_, false) => Permission::Closed,
        (CommentsMode::Members, _) if user.is_none() => Permission::LoginRequired,
        (_, _) if user.is_some_and(|u| !u.email_confirmed) => Permission::ConfirmRequired,
        _ => Permission::Allowed,
    }
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

type Errors = std::collections::BTreeMap<&'static str, String>;

#[derive(Debug)]
struct Validated {
    body: String,
    name: String,
    email: String,
}

fn validate(f: &CommentForm, visitor: &Visitor) -> std::result::Result<Validated, Errors> {
    let mut errors = Errors::new();
    let body = f.body.trim().to_string();
    if body.is_empty() {
        errors.insert("body", "Write something first.".into());
    } else if body.chars().count() > 5000 {
        errors.insert("body", "At most 5,000 characters.".into());
    }
    let (name, email) = match visitor.user() {
        Some(u) => (u.shown_name().to_string(), u.email.clone()),
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

/// The post a comment goes to: (id, comments enabled, author id).
fn target(c: &mut Conn, slug: &str) -> Result<(i64, bool, i64)> {
    let row = c
        .query_opt(
            "SELECT id, comments_enabled, author_id FROM posts WHERE slug = ? AND status = 'published' AND published_at <= ?",
            params![slug, dates::now()],
        )?
        .ok_or(Error::NotFound)?;
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

/// What the commenter is told after sending, next to the form
/// (a flash of this kind is shown there, not at the top of the page).
pub const FLASH_KIND: &str = "comment";
const AWAITING: &str = "Thank you! Your comment is awaiting moderation. Only you can see it until a moderator approves it.";

#[post("/posts/<slug>/comments", data = "<form>")]
#[allow(clippy::too_many_arguments)]
async fn create(
    db: &State<Db>,
    mailer: &State<Mailer>,
    site: Site<'_>,
    visitor: Visitor,
    csrf: CsrfToken,
    ip: ClientIp,
    jar: &CookieJar<'_>,
    slug: &str,
    form: CsrfForm<CommentForm>,
) -> Result<std::result::Result<Flash<Redirect>, (Status, Template)>> {
    let f = form.into_inner();
    let key = slug.to_string();
    let (post_id, enabled, post_author) = db.run(move |c| target(c, &key)).await?;
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
    let form_anchor = format!("/posts/{slug}#leave-a-comment");
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
    let (mailer, wake) = (mailer.inner().clone(), mailer.inner().clone());
    let parent = f.parent;
    let notify_wanted = f.notify.0;
    let client = ip.0;
    let outcome = db
        .run(move |c| {
            if let Some(p) = parent {
                let ok: i64 = c.query_scalar(
                    "SELECT COUNT(*) FROM comments WHERE id = ? AND post_id = ? AND status = 'approved'",
                    params![p, post_id],
                )?;
                if ok == 0 {
                    return Err(Error::invalid("The comment you replied to is not there anymore."));
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
                let known: i64 = c.query_scalar(
                    "SELECT COUNT(*) FROM comments WHERE author_email = ? AND status = 'approved' AND user_id IS NULL \
                     AND NOT EXISTS (SELECT 1 FROM users WHERE email = ?)",
                    params![&v.email, &v.email],
                )?;
                if known > 0 { "approved" } else { "pending" }
            };
            let unsubscribe = notify_wanted.then(random_token);
            let id = c.transaction(|c| {
                let id = c.insert(
                    "INSERT INTO comments (post_id, parent_id, user_id, author_name, author_email, body, body_html, status, ip, \
                     notify_replies, unsubscribe_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    params![post_id, parent, user.as_ref().map(|u| u.id), &v.name, &v.email, &v.body,
                        markdown::render_comment(&v.body), status, &client, notify_wanted,
                        unsubscribe.as_deref().map(digest), dates::now()],
                )?;
                if status != "spam" {
                    notify::new_comment(c, &mailer, &settings, id, post_author, user.as_ref().map(|u| u.id))?;
                }
                if status == "approved" {
                    notify::reply_approved(c, &mailer, &settings, id)?;
                }
                Ok(id)
            })?;
            Ok((id, status))
        })
        .await?;
    wake.wake();
    let (id, status) = outcome;
    Ok(Ok(match status {
        "approved" => Flash::new(
            Redirect::to(format!("/posts/{slug}?comment={id}#comment-{id}")),
            FLASH_KIND,
            "Your comment is published.",
        ),
        // Pending or quarantined as spam: either way a moderator decides, and
        // the writer sees it, marked, where they wrote it.
        _ => {
            remember_pending(jar, slug, id, site.settings.https());
            Flash::new(
                Redirect::to(format!("/posts/{slug}#comment-{id}")),
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
    let changed = db
        .run(move |c| {
            c.execute(
                "UPDATE comments SET notify_replies = 0 WHERE id = ? AND unsubscribe_hash = ?",
                params![id, hash],
            )
        })
        .await?;
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
