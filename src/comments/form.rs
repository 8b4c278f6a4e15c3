//! The comment form's state on a post page, shared by the page (blog) and
//! the comment route: who may comment, when the form was shown (a spam
//! defence), and the visitor's own comments awaiting moderation.

use rocket::http::{Cookie, CookieJar};

use crate::config::{CommentsMode, Settings};
use crate::ground::dates;
use crate::users::guards::Visitor;

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

pub fn remember_pending(jar: &CookieJar<'_>, slug: &str, id: i64, https: bool) {
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
            .path(crate::blog::links::post(slug))
            .http_only(true)
            .secure(https)
            .same_site(rocket::http::SameSite::Lax)
            .max_age(time::Duration::days(7)),
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
