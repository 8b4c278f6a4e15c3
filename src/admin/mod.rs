//! The admin area (`/admin`): dashboard, posts and pages with live preview,
//! tags, comment moderation, media library, users, mail queue, site settings.
//! Authors reach it for their own posts and uploads; editors and admins for all
//! content; users, mail and settings are for admins only.

mod comments;
mod dashboard;
mod media;
mod pages;
mod posts;
mod site;
mod tags;
mod users;

use rocket::fairing::AdHoc;
use rocket::Route;

use crate::db::Db;
use crate::error::Result;
use crate::users::session::Session;
use crate::users::Role;
use crate::web::View;

/// The admin area's routes.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Admin", |rocket| async { rocket.mount("/", routes()) })
}

pub fn routes() -> Vec<Route> {
    let mut all = Vec::new();
    all.extend(dashboard::routes());
    all.extend(posts::routes());
    all.extend(pages::routes());
    all.extend(tags::routes());
    all.extend(comments::routes());
    all.extend(media::routes());
    all.extend(users::routes());
    all.extend(site::routes());
    all
}

/// The shared parts of every admin page: which section, what the nav shows.
async fn admin_view(
    db: &Db,
    name: &'static str,
    section: &'static str,
    session: &Session,
) -> Result<View> {
    let pending = db
        .run(|c| crate::comments::store::count_pending(c, None))
        .await?;
    Ok(View::new(name)
        .with("admin_section", section)
        .with("pending_count", pending)
        .with("is_admin", session.user.role == Role::Admin)
        .with("is_editor", session.user.role >= Role::Editor)
        .with("csrf_token", &session.csrf_token))
}

/// The confirmation page shown before deleting item `id` of `kind` ("post", "page").
fn confirm_delete(view: View, kind: &str, id: i64, title: &str, message: &str) -> View {
    view.title(format!("Delete {kind}"))
        .with("heading", format!("Delete “{title}”?"))
        .with("message", message)
        .with("action", format!("/admin/{kind}s/{id}/delete"))
        .with("cancel_url", format!("/admin/{kind}s/{id}/edit"))
}

/// A page number from `?page=`, and its offset.
fn page_and_offset(page: Option<&str>, per_page: u32) -> Result<(u32, i64)> {
    let page = crate::web::pagination::requested(page)?;
    Ok((page, crate::web::pagination::offset(page, per_page)))
}

/// Admin lists show more rows than public ones.
const PER_PAGE: u32 = 25;
