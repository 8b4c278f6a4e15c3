//! Mail about comments, through the queue: moderators and the post's author on
//! a new comment; the parent's author on an approved reply, if they asked.

use crate::config::Settings;
use crate::db::Conn;
use crate::error::Result;
use crate::mail::Mailer;
use crate::params;
use crate::users::session::{digest, random_token};

/// Tells the post's author and every editor and admin, except a member who wrote
/// it (an anonymous commenter's typed address proves nothing, so it excludes no one).
pub fn new_comment(
    c: &mut Conn,
    mailer: &Mailer,
    settings: &Settings,
    comment_id: i64,
    post_author: i64,
    commenter: Option<i64>,
) -> Result<()> {
    let Some(r) = c.query_opt(
        "SELECT c.author_name, c.author_email, c.body, c.status, p.title, p.slug FROM comments c \
         JOIN posts p ON p.id = c.post_id WHERE c.id = ?",
        params![comment_id],
    )?
    else {
        return Ok(());
    };
    let (name, _email, body, status, title, slug): (
        String,
        String,
        String,
        String,
        String,
        String,
    ) = (
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    );
    let recipients: Vec<String> = c
        .query(
            "SELECT email FROM users WHERE is_active = 1 AND (id = ? OR role IN ('admin', 'editor')) AND id <> ? ORDER BY id",
            params![post_author, commenter.unwrap_or(-1)],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect::<Result<_>>()?;
    let base = &settings.site_url;
    for to in &recipients {
        let ctx = serde_json::json!({
            "name": name, "body": body, "status": status, "post_title": title,
            "post_link": format!("{base}/posts/{slug}?comment={comment_id}#comment-{comment_id}"),
            "moderate_link": format!("{base}/admin/comments?status=pending"),
        });
        mailer.queue(c, "new_comment", to, None, ctx)?;
    }
    Ok(())
}

/// When comment `id` is an approved reply whose parent asked for notifications,
/// mails the parent's author, with a one-click unsubscribe link.
pub fn reply_approved(c: &mut Conn, mailer: &Mailer, settings: &Settings, id: i64) -> Result<()> {
    let Some(r) = c.query_opt(
        "SELECT parent.id, parent.author_name, parent.author_email, child.author_name, child.author_email, child.body, p.title, p.slug \
         FROM comments child JOIN comments parent ON parent.id = child.parent_id JOIN posts p ON p.id = child.post_id \
         WHERE child.id = ? AND child.status = 'approved' AND parent.notify_replies = 1 AND parent.author_email <> ''",
        params![id],
    )?
    else {
        return Ok(());
    };
    let (parent_id, parent_name, parent_email, name, email, body, title, slug): (
        i64,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    ) = (
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    );
    if parent_email == email {
        return Ok(());
    }
    // A fresh token each time: only its digest is stored.
    let token = random_token();
    c.execute(
        "UPDATE comments SET unsubscribe_hash = ? WHERE id = ?",
        params![digest(&token), parent_id],
    )?;
    let base = &settings.site_url;
    let ctx = serde_json::json!({
        "parent_name": parent_name, "name": name, "body": body, "post_title": title,
        "post_link": format!("{base}/posts/{slug}?comment={id}#comment-{id}"),
        "unsubscribe_link": format!("{base}/comments/unsubscribe/{parent_id}/{token}"),
    });
    mailer.queue(c, "comment_reply", &parent_email, None, ctx)?;
    Ok(())
}
