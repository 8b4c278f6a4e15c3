//! `/admin`: counts, recent posts and comments, quick links.

use rocket::{get, routes, Route, State};
use rocket_dyn_templates::Template;

use super::admin_view;
use crate::db::Db;
use crate::error::Result;
use crate::ground::dates;
use crate::users::guards::AuthorUser;
use crate::users::Role;
use crate::web::Site;
use crate::{blog, comments, mail, media};

pub fn routes() -> Vec<Route> {
    routes![dashboard]
}

#[get("/admin")]
async fn dashboard(db: &State<Db>, site: Site<'_>, me: AuthorUser) -> Result<Template> {
    // Authors see their own posts and the comments on them, nothing of others'.
    let mine = (me.0.user.role == Role::Author).then_some(me.0.user.id);
    let (counts, posts, comments) = db
        .run(move |c| {
            let now = dates::now();
            let posts = blog::posts::counts(c, mine, now)?;
            let counts = serde_json::json!({
                "posts": posts.posts,
                "published": posts.published,
                "drafts": posts.drafts,
                "scheduled": posts.scheduled,
                "pending_comments": comments::store::count_pending(c, mine)?,
                "failed_mails": mail::queue::count_by_status(c, "failed")?,
                "users": crate::users::store::count(c)?,
                "media": media::library::count(c)?,
            });
            let posts = blog::posts::listed(c, &blog::posts::ListFilter::default(), mine, 5, 0)?;
            let comments = comments::store::listed(c, None, mine, 5, 0)?;
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
