//! `/admin`: counts, recent posts and comments, quick links.

use rocket::{get, routes, Route, State};
use rocket_dyn_templates::Template;

use super::admin_view;
use crate::dates;
use crate::db::{Db, Value};
use crate::error::Result;
use crate::users::guards::AuthorUser;
use crate::users::Role;
use crate::web::Site;

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
            let (posts_of, comments_of, who) = match mine {
                Some(_) => (" AND author_id = ?", " AND p.author_id = ?", vec![Value::from(mine)]),
                None => ("", "", Vec::new()),
            };
            // Counts of posts (and comments on posts) take the author filter.
            let mut mine_count = |sql: String, mut params: Vec<Value>| -> Result<i64> {
                params.extend(who.iter().cloned());
                c.query_scalar(&sql, &params)
            };
            let scheduled = mine_count(
                format!("SELECT COUNT(*) FROM posts WHERE status = 'published' AND published_at > ?{posts_of}"),
                vec![now.into()],
            )?;
            let posts = mine_count(format!("SELECT COUNT(*) FROM posts WHERE 1 = 1{posts_of}"), vec![])?;
            let published = mine_count(
                format!("SELECT COUNT(*) FROM posts WHERE status = 'published'{posts_of}"),
                vec![],
            )? - scheduled;
            let drafts = mine_count(format!("SELECT COUNT(*) FROM posts WHERE status = 'draft'{posts_of}"), vec![])?;
            let pending = mine_count(
                format!("SELECT COUNT(*) FROM comments c JOIN posts p ON p.id = c.post_id WHERE c.status = 'pending'{comments_of}"),
                vec![],
            )?;
            let counts = serde_json::json!({
                "posts": posts,
                "published": published,
                "drafts": drafts,
                "scheduled": scheduled,
                "pending_comments": pending,
                "failed_mails": c.query_scalar::<i64>("SELECT COUNT(*) FROM mail_queue WHERE status = 'failed'", &[])?,
                "users": c.query_scalar::<i64>("SELECT COUNT(*) FROM users", &[])?,
                "media": c.query_scalar::<i64>("SELECT COUNT(*) FROM media", &[])?,
            });
            let posts = super::posts::rows(c, &super::posts::Filter::default(), mine, 5, 0)?;
            let comments = super::comments::rows(c, None, mine, 5, 0)?;
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
