//! `/admin`: counts, recent posts and comments, quick links.

use rocket::{get, routes, Route, State};
use rocket_dyn_templates::Template;

use super::{admin_view, count};
use crate::dates;
use crate::db::Db;
use crate::error::Result;
use crate::params;
use crate::users::guards::AuthorUser;
use crate::web::Site;

pub fn routes() -> Vec<Route> {
    routes![dashboard]
}

#[get("/admin")]
async fn dashboard(db: &State<Db>, site: Site<'_>, me: AuthorUser) -> Result<Template> {
    let (counts, posts, comments) = db
        .run(|c| {
            let now = dates::now();
            let scheduled: i64 = c.query_scalar(
                "SELECT COUNT(*) FROM posts WHERE status = 'published' AND published_at > ?",
                params![now],
            )?;
            let counts = serde_json::json!({
                "posts": count(c, "SELECT COUNT(*) FROM posts")?,
                "published": count(c, "SELECT COUNT(*) FROM posts WHERE status = 'published'")? - scheduled,
                "drafts": count(c, "SELECT COUNT(*) FROM posts WHERE status = 'draft'")?,
                "scheduled": scheduled,
                "pending_comments": count(c, "SELECT COUNT(*) FROM comments WHERE status = 'pending'")?,
                "failed_mails": count(c, "SELECT COUNT(*) FROM mail_queue WHERE status = 'failed'")?,
                "users": count(c, "SELECT COUNT(*) FROM users")?,
                "media": count(c, "SELECT COUNT(*) FROM media")?,
            });
            let posts = super::posts::rows(c, &super::posts::Filter::default(), None, 5, 0)?;
            let comments = super::comments::rows(c, None, 5, 0)?;
            Ok((counts, posts, comments))
        })
        .await?;
    Ok(admin_view(db, "admin/dashboard.html", "dashboard", &me.0)
        .await?
        .title("Dashboard")
        .with("counts", counts)
        .with("recent_posts", posts)
        .with("recent_comments", comments)
        .render(&site))
}
