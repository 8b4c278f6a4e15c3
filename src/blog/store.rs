//! SQL for the public side of the blog. A post is public when it is published
//! and its `published_at` has passed: scheduled posts appear on time by themselves.

use std::collections::HashMap;

use super::model::{AuthorRef, NavLink, Page, PostSummary, TagCount, TagRef};
use crate::dates;
use crate::db::{Conn, Row, Value};
use crate::error::Result;
use crate::params;

/// Which public posts a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    All,
    Tag(i64),
    Author(i64),
}

const PUBLIC: &str = "p.status = 'published' AND p.published_at <= ?";

fn scope_sql(scope: Scope, now: i64) -> (String, Vec<Value>) {
    match scope {
        Scope::All => (PUBLIC.to_string(), vec![now.into()]),
        Scope::Tag(tag) => (
            format!("{PUBLIC} AND p.id IN (SELECT post_id FROM post_tags WHERE tag_id = ?)"),
            vec![now.into(), tag.into()],
        ),
        Scope::Author(user) => (
            format!("{PUBLIC} AND p.author_id = ?"),
            vec![now.into(), user.into()],
        ),
    }
}

// The approved-comment count is a correlated subquery on an index: one
// statement for the whole page, no query per post.
const SUMMARY_COLUMNS: &str = "p.id, p.title, p.slug, COALESCE(p.custom_excerpt, p.excerpt), \
    p.published_at, p.updated_at, p.reading_minutes, p.cover_image, u.username, u.display_name, \
    p.comments_enabled, \
    (SELECT COUNT(*) FROM comments c WHERE c.post_id = p.id AND c.status = 'approved')";

fn summary(r: &Row) -> Result<PostSummary> {
    let slug: String = r.get(2)?;
    let cover: Option<String> = r.get(7)?;
    let mut post = PostSummary {
        id: r.get(0)?,
        title: r.get(1)?,
        url: format!("/posts/{slug}"),
        slug,
        excerpt: r.get(3)?,
        published_ts: 0,
        published_at: String::new(),
        published_display: String::new(),
        updated_at: String::new(),
        reading_minutes: r.get(6)?,
        cover_url: cover.map(|c| format!("/media/{c}")),
        author: AuthorRef::new(r.get(8)?, r.get(9)?),
        comments_enabled: r.get(10)?,
        comment_count: r.get(11)?,
        tags: Vec::new(),
        body_html: None,
    };
    post.dates(r.get::<Option<i64>>(4)?.unwrap_or(0), r.get(5)?);
    Ok(post)
}

pub fn count_public(c: &mut Conn, scope: Scope, now: i64) -> Result<i64> {
    let (filter, params) = scope_sql(scope, now);
    c.query_scalar(
        &format!("SELECT COUNT(*) FROM posts p WHERE {filter}"),
        &params,
    )
}

/// One page of public posts, newest first, with authors, tags and comment counts.
pub fn list_public(
    c: &mut Conn,
    scope: Scope,
    now: i64,
    limit: u32,
    offset: i64,
) -> Result<Vec<PostSummary>> {
    list(c, scope, now, limit, offset, false)
}

/// The latest public posts with their full HTML, for feeds.
pub fn latest_with_bodies(
    c: &mut Conn,
    scope: Scope,
    now: i64,
    limit: u32,
) -> Result<Vec<PostSummary>> {
    list(c, scope, now, limit, 0, true)
}

fn list(
    c: &mut Conn,
    scope: Scope,
    now: i64,
    limit: u32,
    offset: i64,
    bodies: bool,
) -> Result<Vec<PostSummary>> {
    let (filter, mut params) = scope_sql(scope, now);
    params.push(limit.into());
    params.push(offset.into());
    let sql = list_sql(&filter, bodies);
    let mut posts = Vec::new();
    for row in c.query(&sql, &params)? {
        let mut post = summary(&row)?;
        if bodies {
            post.body_html = Some(row.get(12)?);
        }
        posts.push(post);
    }
    attach_tags(c, &mut posts)?;
    Ok(posts)
}

/// The statement behind every list of posts (home, tag, author, feeds).
fn list_sql(filter: &str, bodies: bool) -> String {
    let body = if bodies { ", p.body_html" } else { "" };
    format!(
        "SELECT {SUMMARY_COLUMNS}{body} FROM posts p JOIN users u ON u.id = p.author_id \
         WHERE {filter} ORDER BY p.published_at DESC, p.id DESC LIMIT ? OFFSET ?"
    )
}

/// A public post with its body.
pub fn public_post(c: &mut Conn, slug: &str, now: i64) -> Result<Option<PostSummary>> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS}, p.body_html FROM posts p JOIN users u ON u.id = p.author_id \
         WHERE p.slug = ? AND {PUBLIC}"
    );
    let Some(row) = c.query_opt(&sql, params![slug, now])? else {
        return Ok(None);
    };
    let mut post = summary(&row)?;
    post.body_html = Some(row.get(12)?);
    let mut one = [post];
    attach_tags(c, &mut one)?;
    let [post] = one;
    Ok(Some(post))
}

/// Fills in the tags of every post in one query.
fn attach_tags(c: &mut Conn, posts: &mut [PostSummary]) -> Result<()> {
    if posts.is_empty() {
        return Ok(());
    }
    let ids: Vec<Value> = posts.iter().map(|p| p.id.into()).collect();
    let sql = format!(
        "SELECT pt.post_id, t.name, t.slug FROM post_tags pt JOIN tags t ON t.id = pt.tag_id \
         WHERE pt.post_id IN ({}) ORDER BY t.name",
        Conn::placeholders(ids.len())
    );
    let mut by_post: HashMap<i64, Vec<TagRef>> = HashMap::new();
    for row in c.query(&sql, &ids)? {
        by_post
            .entry(row.get(0)?)
            .or_default()
            .push(TagRef::new(row.get(1)?, row.get(2)?));
    }
    for post in posts {
        post.tags = by_post.remove(&post.id).unwrap_or_default();
    }
    Ok(())
}

/// A tag by slug: (id, name).
pub fn tag_by_slug(c: &mut Conn, slug: &str) -> Result<Option<(i64, String)>> {
    match c.query_opt("SELECT id, name FROM tags WHERE slug = ?", params![slug])? {
        Some(r) => Ok(Some((r.get(0)?, r.get(1)?))),
        None => Ok(None),
    }
}

/// Tags with at least one public post, alphabetically, with a 1–5 weight for the cloud.
pub fn tag_cloud(c: &mut Conn, now: i64, limit: u32, offset: i64) -> Result<(Vec<TagCount>, i64)> {
    let counted = format!(
        "SELECT t.name, t.slug, COUNT(*) AS n FROM tags t \
         JOIN post_tags pt ON pt.tag_id = t.id JOIN posts p ON p.id = pt.post_id \
         WHERE {PUBLIC} GROUP BY t.id, t.name, t.slug"
    );
    let total: i64 =
        c.query_scalar(&format!("SELECT COUNT(*) FROM ({counted}) x"), params![now])?;
    let max: i64 = c
        .query_scalar::<Option<i64>>(&format!("SELECT MAX(n) FROM ({counted}) x"), params![now])?
        .unwrap_or(1)
        .max(1);
    let rows = c.query(
        &format!("{counted} ORDER BY t.name LIMIT ? OFFSET ?"),
        params![now, limit, offset],
    )?;
    let tags = rows
        .iter()
        .map(|r| {
            let slug: String = r.get(1)?;
            let count: i64 = r.get(2)?;
            Ok(TagCount {
                name: r.get(0)?,
                url: format!("/tags/{slug}"),
                slug,
                count,
                weight: (1 + (count * 4) / max) as u8,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((tags, total))
}

/// One archive entry: (title, slug, published_at).
pub fn archive(
    c: &mut Conn,
    now: i64,
    limit: u32,
    offset: i64,
) -> Result<Vec<(String, String, i64)>> {
    let sql = format!(
        "SELECT p.title, p.slug, p.published_at FROM posts p WHERE {PUBLIC} \
         ORDER BY p.published_at DESC, p.id DESC LIMIT ? OFFSET ?"
    );
    c.query(&sql, params![now, limit, offset])?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .collect()
}

pub fn page_by_slug(c: &mut Conn, slug: &str) -> Result<Option<Page>> {
    let Some(r) = c.query_opt(
        "SELECT id, title, slug, body_html, updated_at FROM pages WHERE slug = ? AND status = 'published'",
        params![slug],
    )?
    else {
        return Ok(None);
    };
    let slug: String = r.get(2)?;
    let updated: i64 = r.get(4)?;
    Ok(Some(Page {
        id: r.get(0)?,
        title: r.get(1)?,
        url: format!("/pages/{slug}"),
        slug,
        body_html: r.get(3)?,
        updated_at: dates::rfc3339(updated),
        updated_display: dates::display(updated),
    }))
}

/// Published pages shown in the site navigation.
pub fn nav_pages(c: &mut Conn) -> Result<Vec<NavLink>> {
    c.query(
        "SELECT title, slug FROM pages WHERE status = 'published' AND show_in_nav = 1 \
         ORDER BY nav_order, title LIMIT 12",
        params![],
    )?
    .iter()
    .map(|r| {
        let slug: String = r.get(1)?;
        Ok(NavLink {
            title: r.get(0)?,
            url: format!("/pages/{slug}"),
        })
    })
    .collect()
}

/// Everything the sitemap lists: (path, last modified).
pub fn sitemap_entries(c: &mut Conn, now: i64) -> Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    let newest: Option<i64> = c.query_scalar(
        &format!("SELECT MAX(p.updated_at) FROM posts p WHERE {PUBLIC}"),
        params![now],
    )?;
    out.push(("/".to_string(), newest.unwrap_or(now)));
    for r in c.query(
        &format!(
            "SELECT p.slug, p.updated_at FROM posts p WHERE {PUBLIC} ORDER BY p.published_at, p.id"
        ),
        params![now],
    )? {
        out.push((format!("/posts/{}", r.get::<String>(0)?), r.get(1)?));
    }
    for r in c.query(
        "SELECT slug, updated_at FROM pages WHERE status = 'published' ORDER BY slug",
        params![],
    )? {
        out.push((format!("/pages/{}", r.get::<String>(0)?), r.get(1)?));
    }
    for r in c.query(
        &format!(
            "SELECT t.slug, MAX(p.updated_at) FROM tags t JOIN post_tags pt ON pt.tag_id = t.id \
             JOIN posts p ON p.id = pt.post_id WHERE {PUBLIC} GROUP BY t.slug ORDER BY t.slug"
        ),
        params![now],
    )? {
        out.push((format!("/tags/{}", r.get::<String>(0)?), r.get(1)?));
    }
    for r in c.query(
        &format!(
            "SELECT u.username, MAX(p.updated_at) FROM users u JOIN posts p ON p.author_id = u.id \
             WHERE {PUBLIC} AND u.is_active = 1 GROUP BY u.username ORDER BY u.username"
        ),
        params![now],
    )? {
        out.push((format!("/authors/{}", r.get::<String>(0)?), r.get(1)?));
    }
    Ok(out)
}

#[cfg(test)]
mod query_plans {
    use super::*;
    use crate::db::Db;

    /// SQLite's plan for `sql`, one step per line.
    fn plan(c: &mut Conn, sql: &str, params: &[Value]) -> String {
        c.query(&format!("EXPLAIN QUERY PLAN {sql}"), params)
            .unwrap()
            .iter()
            .map(|r| r.get::<String>(3).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Every list a reader can page through is read through an index: no step
    /// scans a whole table, and the comment counts come from the thread index.
    #[test]
    fn reader_queries_use_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&format!("sqlite://{}", dir.path().join("t.db").display())).unwrap();
        crate::db::migrations::apply(&db).unwrap();
        let mut c = db.conn().unwrap();
        let now = 1_700_000_000_i64;
        let paged = |scope: Scope| {
            let (filter, mut params) = scope_sql(scope, now);
            params.push(10.into());
            params.push(490.into());
            (list_sql(&filter, false), params)
        };
        let checks: Vec<(&str, String, Vec<Value>, &[&str])> = vec![
            {
                let (sql, params) = paged(Scope::All);
                ("home", sql, params, &["posts_public", "comments_post"])
            },
            {
                let (sql, params) = paged(Scope::Tag(1));
                ("tag", sql, params, &["post_tags_tag"])
            },
            {
                let (sql, params) = paged(Scope::Author(1));
                ("author", sql, params, &["posts_author_list"])
            },
            (
                "count",
                format!("SELECT COUNT(*) FROM posts p WHERE {PUBLIC}"),
                vec![now.into()],
                &["posts_public"],
            ),
            (
                "post",
                format!("SELECT {SUMMARY_COLUMNS} FROM posts p JOIN users u ON u.id = p.author_id WHERE p.slug = ? AND {PUBLIC}"),
                vec!["x".into(), now.into()],
                &["sqlite_autoindex_posts"],
            ),
            (
                "sitemap",
                format!("SELECT p.slug, p.updated_at FROM posts p WHERE {PUBLIC} ORDER BY p.published_at, p.id"),
                vec![now.into()],
                &["COVERING INDEX posts_sitemap"],
            ),
            (
                "thread",
                "SELECT c.id FROM comments c LEFT JOIN users u ON u.id = c.user_id \
                 WHERE c.post_id = ? AND c.status = 'approved' ORDER BY c.created_at, c.id"
                    .to_string(),
                vec![1.into()],
                &["comments_post"],
            ),
        ];
        for (name, sql, params, indexes) in checks {
            let plan = plan(&mut c, &sql, &params);
            for step in plan.lines() {
                assert!(
                    !step.starts_with("SCAN") || step.contains("USING"),
                    "{name}: full scan in\n{plan}"
                );
            }
            for index in indexes {
                assert!(plan.contains(index), "{name}: {index} not used in\n{plan}");
            }
        }
    }
}
