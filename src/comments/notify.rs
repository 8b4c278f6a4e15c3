//! Mail about comments, through the queue: moderators and the post's author on
//! a new comment; the parent's author on an approved reply, if they asked.
//! Both run as subscribers of comment events (`subscribers`), after the
//! comment is committed and once, whichever instance handles the event.

use std::sync::Arc;

use crate::blog::links;
use crate::comments::store;
use crate::config::Settings;
use crate::db::Conn;
use crate::error::Result;
use crate::events::dispatch::Subscriber;
use crate::events::Kind;
use crate::ground::tokens::{digest, random_token};
use crate::mail::Mailer;
use crate::users;

/// The comment mail subscribers, given to the event dispatcher at start-up.
pub fn subscribers(mailer: &Mailer) -> Vec<Subscriber> {
    let (posted, approved) = (mailer.clone(), mailer.clone());
    vec![
        Subscriber {
            name: "comment mail to moderators",
            kinds: &[Kind::CommentPosted],
            handle: Arc::new(move |c, event| {
                let settings = crate::site::settings::effective(c, posted.settings())?;
                new_comment(c, &posted, &settings, event.subject_id)
            }),
            after: Some(Arc::new({
                let m = mailer.clone();
                move || m.wake()
            })),
        },
        Subscriber {
            name: "reply mail to the parent's author",
            kinds: &[Kind::CommentApproved],
            handle: Arc::new(move |c, event| {
                let settings = crate::site::settings::effective(c, approved.settings())?;
                reply_approved(c, &approved, &settings, event.subject_id)
            }),
            after: Some(Arc::new({
                let m = mailer.clone();
                move || m.wake()
            })),
        },
    ]
}

/// Tells the post's author and every editor and admin, except a member who wrote
/// it (an anonymous commenter's typed address proves nothing, so it excludes no one).
pub fn new_comment(
    c: &mut Conn,
    mailer: &Mailer,
    settings: &Settings,
    comment_id: i64,
) -> Result<()> {
    let Some(n) = store::notice(c, comment_id)? else {
        return Ok(());
    };
    let recipients = users::store::comment_moderators(c, n.post_author, n.user_id)?;
    let base = &settings.site_url;
    for to in &recipients {
        let ctx = serde_json::json!({
            "name": n.author_name, "body": n.body, "status": n.status, "post_title": n.post_title,
            "post_link": format!("{base}{}?comment={comment_id}#comment-{comment_id}", links::post(&n.post_slug)),
            "moderate_link": format!("{base}/admin/comments?status=pending"),
        });
        mailer.queue(c, "new_comment", to, None, ctx)?;
    }
    Ok(())
}

/// When comment `id` is an approved reply whose parent asked for notifications,
/// mails the parent's author, with a one-click unsubscribe link.
pub fn reply_approved(c: &mut Conn, mailer: &Mailer, settings: &Settings, id: i64) -> Result<()> {
    let Some(r) = store::reply_notice(c, id)? else {
        return Ok(());
    };
    if r.parent_email == r.email {
        return Ok(());
    }
    // A fresh token each time: only its digest is stored.
    let token = random_token();
    store::set_unsubscribe_hash(c, r.parent_id, &digest(&token))?;
    let base = &settings.site_url;
    let parent_id = r.parent_id;
    let ctx = serde_json::json!({
        "parent_name": r.parent_name, "name": r.name, "body": r.body, "post_title": r.post_title,
        "post_link": format!("{base}{}?comment={id}#comment-{id}", links::post(&r.post_slug)),
        "unsubscribe_link": format!("{base}/comments/unsubscribe/{parent_id}/{token}"),
    });
    mailer.queue(c, "comment_reply", &r.parent_email, None, ctx)?;
    Ok(())
}
