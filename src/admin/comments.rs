//! The moderation queue: pending, approved and spam comments; approve, mark as
//! spam, delete — one by one or in bulk; empty the spam folder.

use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;

use super::{admin_view, page_and_offset, PER_PAGE};
use crate::comments::store::{self, Moderation};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::ground::dates;
use crate::users::guards::EditorUser;
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::{Pagination, Site};

pub fn routes() -> Vec<Route> {
    routes![list, approve, spam, delete, bulk, empty_spam]
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
    let (page, offset) = page_and_offset(page, PER_PAGE)?;
    let (comments, counts) = db
        .run(move |c| {
            let mut counts = serde_json::Map::new();
            for s in ["pending", "approved", "spam"] {
                counts.insert(s.into(), store::count_by_status(c, s)?.into());
            }
            Ok((
                store::listed(c, Some(status), None, PER_PAGE, offset)?,
                counts,
            ))
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

/// Moderates; mail about replies that became visible follows from the
/// events this records (`comments::notify`).
async fn apply(db: &Db, action: &str, ids: Vec<i64>) -> Result<u64> {
    let action = Moderation::parse(action).ok_or_else(|| Error::invalid("Unknown action."))?;
    db.run(move |c| store::moderate(c, action, &ids, dates::now()))
        .await
}

async fn one(db: &Db, action: &str, id: i64, done: &str) -> Result<Flash<Redirect>> {
    let n = apply(db, action, vec![id]).await?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(Flash::success(Redirect::to("/admin/comments"), done))
}

#[post("/admin/comments/<id>/approve", data = "<_form>")]
async fn approve(
    db: &State<Db>,
    _me: EditorUser,
    id: i64,
    _form: CsrfForm<NoFields>,
) -> Result<Flash<Redirect>> {
    one(db, "approve", id, "The comment is approved.").await
}

#[post("/admin/comments/<id>/spam", data = "<_form>")]
async fn spam(
    db: &State<Db>,
    _me: EditorUser,
    id: i64,
    _form: CsrfForm<NoFields>,
) -> Result<Flash<Redirect>> {
    one(db, "spam", id, "The comment is marked as spam.").await
}

#[post("/admin/comments/<id>/delete", data = "<_form>")]
async fn delete(
    db: &State<Db>,
    _me: EditorUser,
    id: i64,
    _form: CsrfForm<NoFields>,
) -> Result<Flash<Redirect>> {
    one(db, "delete", id, "The comment is deleted.").await
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
    _me: EditorUser,
    form: CsrfForm<BulkForm>,
) -> Result<Flash<Redirect>> {
    let f = form.into_inner();
    if !matches!(f.action.as_str(), "approve" | "spam" | "delete") {
        return Err(Error::invalid("Choose approve, spam or delete."));
    }
    let n = apply(db, &f.action, f.ids).await?;
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
    let n = db.run(store::delete_spam).await?;
    Ok(Flash::success(
        Redirect::to("/admin/comments?status=spam"),
        format!("{n} spam comment(s) deleted."),
    ))
}
