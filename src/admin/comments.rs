//! The moderation queue: pending, approved and spam comments; approve, mark as
//! spam, delete — one by one or in bulk; empty the spam folder.

use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::{admin_view, page_of, PER_PAGE};
use crate::comments::notify;
use crate::config::Settings;
use crate::db::{Conn, Db, Value};
use crate::error::{Error, Result};
use crate::mail::Mailer;
use crate::users::guards::EditorUser;
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::{Pagination, Site};
use crate::{dates, params};

pub fn routes() -> Vec<Route> {
    routes![list, approve, spam, delete, bulk, empty_spam]
}

#[derive(Debug, Serialize)]
pub struct Row {
    id: i64,
    author_name: String,
    author_email: String,
    body_html: String,
    status: String,
    created_display: String,
    post_title: String,
    post_url: String,
    ip: Option<String>,
}

/// Comments with `status` (all when `None`), newest first.
/// Comments, newest first: with `status` only those; with `post_author` only
/// on that author's posts.
pub fn rows(
    c: &mut Conn,
    status: Option<&str>,
    post_author: Option<i64>,
    limit: u32,
    offset: i64,
) -> Result<Vec<Row>> {
    let mut conditions = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    if let Some(s) = status {
        conditions.push("c.status = ?");
        params.push(s.into());
    }
    if let Some(author) = post_author {
        conditions.push("p.author_id = ?");
        params.push(author.into());
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    params.push(limit.into());
    params.push(offset.into());
    c.query(
        &format!(
            "SELECT c.id, COALESCE(NULLIF(u.display_name, ''), u.username, c.author_name), COALESCE(u.email, c.author_email), \
             c.body_html, c.status, c.created_at, p.title, p.slug, c.ip \
             FROM comments c JOIN posts p ON p.id = c.post_id LEFT JOIN users u ON u.id = c.user_id \
             {filter} ORDER BY c.created_at DESC, c.id DESC LIMIT ? OFFSET ?"
        ),
        &params,
    )?
    .iter()
    .map(|r| {
        let id: i64 = r.get(0)?;
        let slug: String = r.get(7)?;
        Ok(Row {
            id,
            author_name: r.get::<Option<String>>(1)?.unwrap_or_default(),
            author_email: r.get::<Option<String>>(2)?.unwrap_or_default(),
            body_html: r.get(3)?,
            status: r.get(4)?,
            created_display: dates::display(r.get(5)?),
            post_title: r.get(6)?,
            post_url: format!("/posts/{slug}?comment={id}#comment-{id}"),
            ip: r.get(8)?,
        })
    })
    .collect()
}

fn status_of(s: Option<&str>) -> &'static str {
    match s {
        Some("approved") => "approved",
        Some("spam") => "spam",
        _ => "pending",
    }
}

#[get("/admin/comments?<status>&<page>")]
async fn list(
    db: &State<Db>,
    site: Site<'_>,
    me: EditorUser,
    status: Option<&str>,
    page: Option<&str>,
) -> Result<Template> {
    let status = status_of(status);
    let (page, offset) = page_of(page, PER_PAGE)?;
    let (comments, counts) = db
        .run(move |c| {
            let mut counts = serde_json::Map::new();
            for s in ["pending", "approved", "spam"] {
                let n: i64 =
                    c.query_scalar("SELECT COUNT(*) FROM comments WHERE status = ?", params![s])?;
                counts.insert(s.into(), n.into());
            }
            Ok((rows(c, Some(status), None, PER_PAGE, offset)?, counts))
        })
        .await?;
    let total = counts.get(status).and_then(|v| v.as_i64()).unwrap_or(0);
    let pager = Pagination::new(
        page,
        PER_PAGE,
        total,
        &format!("/admin/comments?status={status}"),
    )?;
    Ok(admin_view(db, "admin/comments.html", "comments", &me.0)
        .await?
        .title("Comments")
        .with("status", status)
        .with("counts", counts)
        .with("comments", comments)
        .with("pagination", pager)
        .render(&site))
}

/// Applies a moderation action to comments; returns how many changed.
fn moderate(c: &mut Conn, action: &str, ids: &[i64]) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let list: Vec<Value> = ids.iter().map(|&id| id.into()).collect();
    let marks = Conn::placeholders(ids.len());
    let sql = match action {
        "approve" => format!("UPDATE comments SET status = 'approved' WHERE id IN ({marks})"),
        "spam" => format!("UPDATE comments SET status = 'spam' WHERE id IN ({marks})"),
        "delete" => format!("DELETE FROM comments WHERE id IN ({marks})"),
        _ => return Err(Error::invalid("Unknown action.")),
    };
    c.transaction(|c| c.execute(&sql, &list))
}

/// Moderates, then tells parents' authors about replies that became visible.
async fn apply(
    db: &Db,
    mailer: &Mailer,
    settings: &Settings,
    action: String,
    ids: Vec<i64>,
) -> Result<u64> {
    let (m, s) = (mailer.clone(), settings.clone());
    let n = db
        .run(move |c| {
            c.transaction(|c| {
                let n = moderate(c, &action, &ids)?;
                if action == "approve" {
                    for id in &ids {
                        notify::reply_approved(c, &m, &s, *id)?;
                    }
                }
                Ok(n)
            })
        })
        .await?;
    mailer.wake();
    Ok(n)
}

async fn one(
    db: &Db,
    mailer: &Mailer,
    site: &Site<'_>,
    action: &str,
    id: i64,
    done: &str,
) -> Result<Flash<Redirect>> {
    let n = apply(db, mailer, &site.settings, action.to_string(), vec![id]).await?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(Flash::success(Redirect::to("/admin/comments"), done))
}

#[post("/admin/comments/<id>/approve", data = "<_form>")]
async fn approve(
    db: &State<Db>,
    mailer: &State<Mailer>,
    site: Site<'_>,
    _me: EditorUser,
    id: i64,
    _form: CsrfForm<NoFields>,
) -> Result<Flash<Redirect>> {
    one(db, mailer, &site, "approve", id, "The comment is approved.").await
}

#[post("/admin/comments/<id>/spam", data = "<_form>")]
async fn spam(
    db: &State<Db>,
    mailer: &State<Mailer>,
    site: Site<'_>,
    _me: EditorUser,
    id: i64,
    _form: CsrfForm<NoFields>,
) -> Result<Flash<Redirect>> {
    one(
        db,
        mailer,
        &site,
        "spam",
        id,
        "The comment is marked as spam.",
    )
    .await
}

#[post("/admin/comments/<id>/delete", data = "<_form>")]
async fn delete(
    db: &State<Db>,
    mailer: &State<Mailer>,
    site: Site<'_>,
    _me: EditorUser,
    id: i64,
    _form: CsrfForm<NoFields>,
) -> Result<Flash<Redirect>> {
    one(db, mailer, &site, "delete", id, "The comment is deleted.").await
}

#[derive(FromForm)]
struct BulkForm {
    #[field(default = String::new())]
    action: String,
    #[field(default = Vec::new())]
    ids: Vec<i64>,
}

#[post("/admin/comments/bulk", data = "<form>")]
async fn bulk(
    db: &State<Db>,
    mailer: &State<Mailer>,
    site: Site<'_>,
    _me: EditorUser,
    form: CsrfForm<BulkForm>,
) -> Result<Flash<Redirect>> {
    let f = form.into_inner();
    if !matches!(f.action.as_str(), "approve" | "spam" | "delete") {
        return Err(Error::invalid("Choose approve, spam or delete."));
    }
    let n = apply(db, mailer, &site.settings, f.action, f.ids).await?;
    Ok(Flash::success(
        Redirect::to("/admin/comments"),
        format!("{n} comment(s) updated."),
    ))
}

#[post("/admin/comments/spam/empty", data = "<_form>")]
async fn empty_spam(
    db: &State<Db>,
    _me: EditorUser,
    _form: CsrfForm<NoFields>,
) -> Result<Flash<Redirect>> {
    let n = db
        .run(|c| c.execute("DELETE FROM comments WHERE status = 'spam'", params![]))
        .await?;
    Ok(Flash::success(
        Redirect::to("/admin/comments?status=spam"),
        format!("{n} spam comment(s) deleted."),
    ))
}
