//! The `posts` table (its one owner): every statement on posts, for readers,
//! the admin, feeds and transfers. A post is public when it is published and
//! its `published_at` has passed: scheduled posts appear on time by themselves.
//! Writes that change what the world sees go through `blog::publish`.

use std::collections::HashMap;

use serde::Serialize;

use super::links;
use super::model::{AuthorRef, PostStatus, PostSummary, TagRef};
use crate::db::{Conn, Row, Value};
use crate::error::{Error, Result};
use crate::ground::markdown::Rendered;
use crate::ground::{dates, slugs};
use crate::params;
use crate::transfer::format::PostRecord;
use crate::web::cache::Freshness;

/// Which public posts a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    All,
    Tag(i64),
    Author(i64),
}

pub(super) const PUBLIC: &str = "p.status = 'published' AND p.published_at <= ?";

fn scope_sql(scope: Scope, now: i64) -> (String, Vec<Value>) {
    match scope {
        Scope::All => (PUBLIC.to_owned(), vec![now.into()]),
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
        url: links::post(&slug),
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

/// Everything the sitemap lists: (path, last modified).
pub fn sitemap_entries(c: &mut Conn, now: i64) -> Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    let newest: Option<i64> = c.query_scalar(
        &format!("SELECT MAX(p.updated_at) FROM posts p WHERE {PUBLIC}"),
        params![now],
    )?;
    out.push(("/".to_owned(), newest.unwrap_or(now)));
    for r in c.query(
        &format!(
            "SELECT p.slug, p.updated_at FROM posts p WHERE {PUBLIC} ORDER BY p.published_at, p.id"
        ),
        params![now],
    )? {
        out.push((links::post(&r.get::<String>(0)?), r.get(1)?));
    }
    for r in c.query(
        "SELECT slug, updated_at FROM pages WHERE status = 'published' ORDER BY slug",
        params![],
    )? {
        out.push((links::page(&r.get::<String>(0)?), r.get(1)?));
    }
    for r in c.query(
        &format!(
            "SELECT t.slug, MAX(p.updated_at) FROM tags t JOIN post_tags pt ON pt.tag_id = t.id \
             JOIN posts p ON p.id = pt.post_id WHERE {PUBLIC} GROUP BY t.slug ORDER BY t.slug"
        ),
        params![now],
    )? {
        out.push((links::tag(&r.get::<String>(0)?), r.get(1)?));
    }
    for r in c.query(
        &format!(
            "SELECT u.username, MAX(p.updated_at) FROM users u JOIN posts p ON p.author_id = u.id \
             WHERE {PUBLIC} AND u.is_active = 1 GROUP BY u.username ORDER BY u.username"
        ),
        params![now],
    )? {
        out.push((links::author(&r.get::<String>(0)?), r.get(1)?));
    }
    Ok(out)
}

/// Everything needed to create or replace a post.
#[derive(Debug, Clone)]
pub struct PostInput {
    pub title: String,
    pub slug: String,
    pub body_markdown: String,
    pub status: PostStatus,
    pub published_at: Option<i64>,
    pub author_id: i64,
    pub custom_excerpt: Option<String>,
    pub cover_image: Option<String>,
    pub comments_enabled: bool,
}

/// Creates the post (`id` = None) or replaces post `id`; returns its id.
/// Only `blog::publish` calls it: it records what the change means.
pub(super) fn write_row(
    c: &mut Conn,
    id: Option<i64>,
    p: &PostInput,
    r: &Rendered,
    now: i64,
) -> Result<i64> {
    match id {
        Some(id) => {
            c.execute(
                "UPDATE posts SET title = ?, slug = ?, body_markdown = ?, body_html = ?, body_text = ?, excerpt = ?, \
                 custom_excerpt = ?, cover_image = ?, status = ?, published_at = ?, author_id = ?, comments_enabled = ?, \
                 reading_minutes = ?, updated_at = ? WHERE id = ?",
                params![&p.title, &p.slug, &p.body_markdown, &r.html, &r.text, &r.excerpt, p.custom_excerpt.as_deref(),
                    p.cover_image.as_deref(), p.status.as_str(), p.published_at, p.author_id,
                    p.comments_enabled, r.reading_minutes, now, id],
            )?;
            Ok(id)
        }
        None => c.insert(
            "INSERT INTO posts (title, slug, body_markdown, body_html, body_text, excerpt, custom_excerpt, cover_image, \
             status, published_at, author_id, comments_enabled, reading_minutes, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![&p.title, &p.slug, &p.body_markdown, &r.html, &r.text, &r.excerpt, p.custom_excerpt.as_deref(),
                p.cover_image.as_deref(), p.status.as_str(), p.published_at, p.author_id,
                p.comments_enabled, r.reading_minutes, now, now],
        ),
    }
}

/// The id of the post with this slug.
pub fn id_by_slug(c: &mut Conn, slug: &str) -> Result<Option<i64>> {
    c.query_opt("SELECT id FROM posts WHERE slug = ?", params![slug])?
        .map(|row| row.get(0))
        .transpose()
}

/// A slug free among posts: `base`, else `base-2`, `base-3`…
pub fn free_slug(c: &mut Conn, base: &str, except: Option<i64>) -> Result<String> {
    slugs::first_free(base, |candidate| slug_taken(c, candidate, except))
}

/// True when another post than `except` uses `slug`.
pub fn slug_taken(c: &mut Conn, slug: &str, except: Option<i64>) -> Result<bool> {
    let n: i64 = c.query_scalar(
        "SELECT COUNT(*) FROM posts WHERE slug = ? AND id <> ?",
        params![slug, except.unwrap_or(-1)],
    )?;
    Ok(n > 0)
}

/// Sets a post's creation and last-change times (import keeps the file's).
pub(super) fn set_post_times(c: &mut Conn, id: i64, created: i64, updated: i64) -> Result<()> {
    c.execute(
        "UPDATE posts SET created_at = ?, updated_at = ? WHERE id = ?",
        params![created, updated, id],
    )?;
    Ok(())
}

/// The admin list's filters (all optional).
#[derive(Debug, Default, Clone, Serialize)]
pub struct ListFilter {
    pub status: String,
    pub tag: String,
    pub author: String,
    pub q: String,
}

#[derive(Debug, Serialize)]
pub struct ListedPost {
    id: i64,
    title: String,
    slug: String,
    status: String,
    state: &'static str,
    published_display: Option<String>,
    author: String,
    tags: Vec<String>,
    comment_count: i64,
    edit_url: String,
    view_url: Option<String>,
}

fn list_filter_sql(f: &ListFilter, author_id: Option<i64>, now: i64) -> (String, Vec<Value>) {
    let mut sql = String::from("1 = 1");
    let mut params: Vec<Value> = Vec::new();
    match f.status.as_str() {
        "draft" => sql.push_str(" AND p.status = 'draft'"),
        "scheduled" => {
            sql.push_str(" AND p.status = 'published' AND p.published_at > ?");
            params.push(now.into());
        }
        "published" => {
            sql.push_str(" AND p.status = 'published' AND p.published_at <= ?");
            params.push(now.into());
        }
        _ => {}
    }
    if !f.tag.is_empty() {
        sql.push_str(" AND p.id IN (SELECT pt.post_id FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE t.slug = ?)");
        params.push(f.tag.clone().into());
    }
    if !f.author.is_empty() {
        sql.push_str(" AND u.username = ?");
        params.push(f.author.clone().into());
    }
    if let Some(id) = author_id {
        sql.push_str(" AND p.author_id = ?");
        params.push(id.into());
    }
    if !f.q.trim().is_empty() {
        sql.push_str(
            " AND (LOWER(p.title) LIKE ? ESCAPE '\\' OR LOWER(p.body_markdown) LIKE ? ESCAPE '\\')",
        );
        let like = format!(
            "%{}%",
            f.q.trim()
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        params.push(like.clone().into());
        params.push(like.into());
    }
    (sql, params)
}

/// How many posts the admin list holds with these filters.
pub fn count_listed(c: &mut Conn, f: &ListFilter, author_id: Option<i64>) -> Result<i64> {
    let (filter, params) = list_filter_sql(f, author_id, dates::now());
    c.query_scalar(
        &format!("SELECT COUNT(*) FROM posts p JOIN users u ON u.id = p.author_id WHERE {filter}"),
        &params,
    )
}

/// A page of posts for the admin list, newest first, tags in one more query.
pub fn listed(
    c: &mut Conn,
    f: &ListFilter,
    author_id: Option<i64>,
    limit: u32,
    offset: i64,
) -> Result<Vec<ListedPost>> {
    let now = dates::now();
    let (filter, mut params) = list_filter_sql(f, author_id, now);
    params.push(limit.into());
    params.push(offset.into());
    let sql = format!(
        "SELECT p.id, p.title, p.slug, p.status, p.published_at, u.username, \
         (SELECT COUNT(*) FROM comments c WHERE c.post_id = p.id) \
         FROM posts p JOIN users u ON u.id = p.author_id WHERE {filter} \
         ORDER BY COALESCE(p.published_at, p.updated_at) DESC, p.id DESC LIMIT ? OFFSET ?"
    );
    let mut out = Vec::new();
    for r in c.query(&sql, &params)? {
        let id: i64 = r.get(0)?;
        let slug: String = r.get(2)?;
        let status: String = r.get(3)?;
        let published: Option<i64> = r.get(4)?;
        let state = match (status.as_str(), published) {
            ("published", Some(at)) if at > now => "scheduled",
            ("published", _) => "published",
            _ => "draft",
        };
        out.push(ListedPost {
            id,
            title: r.get(1)?,
            view_url: (state == "published").then(|| links::post(&slug)),
            slug,
            status,
            state,
            published_display: published.map(dates::display),
            author: r.get(5)?,
            tags: Vec::new(),
            comment_count: r.get(6)?,
            edit_url: format!("/admin/posts/{id}/edit"),
        });
    }
    if !out.is_empty() {
        let ids: Vec<Value> = out.iter().map(|p| p.id.into()).collect();
        let sql = format!(
            "SELECT pt.post_id, t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id IN ({}) ORDER BY t.name",
            Conn::placeholders(ids.len())
        );
        for r in c.query(&sql, &ids)? {
            let post_id: i64 = r.get(0)?;
            if let Some(p) = out.iter_mut().find(|p| p.id == post_id) {
                p.tags.push(r.get(1)?);
            }
        }
    }
    Ok(out)
}

/// The public post a comment goes to: (id, comments enabled).
pub fn comment_target(c: &mut Conn, slug: &str, now: i64) -> Result<Option<(i64, bool)>> {
    c.query_opt(
        &format!("SELECT p.id, p.comments_enabled FROM posts p WHERE p.slug = ? AND {PUBLIC}"),
        params![slug, now],
    )?
    .map(|r| Ok((r.get(0)?, r.get(1)?)))
    .transpose()
}

/// A post as the editor opens it.
#[derive(Debug, Clone)]
pub struct Editing {
    pub author_id: i64,
    pub title: String,
    pub slug: String,
    pub body_markdown: String,
    pub status: String,
    pub published_at: Option<i64>,
    pub custom_excerpt: Option<String>,
    pub comments_enabled: bool,
    pub cover_image: Option<String>,
    /// Tag names, alphabetically.
    pub tags: Vec<String>,
}

pub fn editing(c: &mut Conn, id: i64) -> Result<Editing> {
    let r = c
        .query_opt(
            "SELECT author_id, title, slug, body_markdown, status, published_at, custom_excerpt, comments_enabled, cover_image \
             FROM posts WHERE id = ?",
            params![id],
        )?
        .ok_or(Error::NotFound)?;
    Ok(Editing {
        author_id: r.get(0)?,
        title: r.get(1)?,
        slug: r.get(2)?,
        body_markdown: r.get(3)?,
        status: r.get(4)?,
        published_at: r.get(5)?,
        custom_excerpt: r.get(6)?,
        comments_enabled: r.get(7)?,
        cover_image: r.get(8)?,
        tags: super::tags::names_of_post(c, id)?,
    })
}

/// The address of post `id` if readers can see it at `now`.
pub fn public_url(c: &mut Conn, id: i64, now: i64) -> Result<Option<String>> {
    Ok(c.query_opt(
        "SELECT slug FROM posts WHERE id = ? AND status = 'published' AND published_at <= ?",
        params![id, now],
    )?
    .map(|r| r.get::<String>(0))
    .transpose()?
    .map(|slug| links::post(&slug)))
}

/// Usernames of everyone who wrote a post, for the admin list's filter.
pub fn author_names(c: &mut Conn) -> Result<Vec<String>> {
    c.query(
        "SELECT DISTINCT u.username FROM users u JOIN posts p ON p.author_id = u.id ORDER BY u.username",
        params![],
    )?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// The dashboard's post counts, of one author or of everyone.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Counts {
    pub posts: i64,
    pub published: i64,
    pub drafts: i64,
    pub scheduled: i64,
}

pub fn counts(c: &mut Conn, author_id: Option<i64>, now: i64) -> Result<Counts> {
    let (mine, who) = match author_id {
        Some(id) => (" AND author_id = ?", vec![Value::from(id)]),
        None => ("", Vec::new()),
    };
    let mut count = |condition: &str, mut params: Vec<Value>| -> Result<i64> {
        params.extend(who.iter().cloned());
        c.query_scalar(
            &format!("SELECT COUNT(*) FROM posts WHERE {condition}{mine}"),
            &params,
        )
    };
    let scheduled = count(
        "status = 'published' AND published_at > ?",
        vec![now.into()],
    )?;
    Ok(Counts {
        posts: count("1 = 1", vec![])?,
        published: count("status = 'published'", vec![])? - scheduled,
        drafts: count("status = 'draft'", vec![])?,
        scheduled,
    })
}

/// Where a post stands for the outside world: what `blog::publish` compares
/// before and after a change.
#[derive(Debug, Clone)]
pub struct LiveState {
    pub slug: String,
    pub title: String,
    pub status: PostStatus,
    pub published_at: Option<i64>,
    /// Announced as public (a `PostPublished` event) and not withdrawn since.
    pub live: bool,
    /// When the post first went public, if it ever did.
    pub first_live_at: Option<i64>,
}

impl LiveState {
    /// Readers can see it at `now`.
    pub fn public_at(&self, now: i64) -> bool {
        self.status == PostStatus::Published && self.published_at.is_some_and(|t| t <= now)
    }
}

pub fn live_state(c: &mut Conn, id: i64) -> Result<Option<LiveState>> {
    // No extra row lock: a save has already updated (and so locked) the row,
    // and making it `FOR UPDATE` would also block the key-share locks that
    // comments take on their post, a deadlock with a comment being written.
    // Announcing is claimed by `go_live_if_due`'s conditional update.
    let Some(r) = c.query_opt(
        "SELECT slug, title, status, published_at, live, first_live_at FROM posts WHERE id = ?",
        params![id],
    )?
    else {
        return Ok(None);
    };
    let status: String = r.get(2)?;
    Ok(Some(LiveState {
        slug: r.get(0)?,
        title: r.get(1)?,
        status: PostStatus::parse(&status).unwrap_or(PostStatus::Draft),
        published_at: r.get(3)?,
        live: r.get(4)?,
        first_live_at: r.get(5)?,
    }))
}

/// Marks post `id` announced (or withdrawn); the first announcement keeps its time.
pub(super) fn set_live(c: &mut Conn, id: i64, live: bool, now: i64) -> Result<()> {
    c.execute(
        "UPDATE posts SET live = ?, first_live_at = COALESCE(first_live_at, ?) WHERE id = ?",
        params![live, live.then_some(now), id],
    )?;
    Ok(())
}

/// Marks a post whose time has come announced, unless another instance
/// already did: true for the one caller that changed it.
pub(super) fn go_live_if_due(c: &mut Conn, id: i64, now: i64) -> Result<bool> {
    Ok(c.execute(
        "UPDATE posts SET live = 1, first_live_at = COALESCE(first_live_at, ?)          WHERE id = ? AND live = 0 AND status = 'published' AND published_at <= ?",
        params![now, id, now],
    )? == 1)
}

/// Published posts whose time has come but that were not announced yet.
pub(super) fn due_unannounced(c: &mut Conn, now: i64, limit: u32) -> Result<Vec<i64>> {
    c.query(
        "SELECT id FROM posts WHERE live = 0 AND status = 'published' AND published_at <= ?          ORDER BY published_at, id LIMIT ?",
        params![now, limit],
    )?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// When the next scheduled post goes public.
pub(super) fn next_scheduled(c: &mut Conn, now: i64) -> Result<Option<i64>> {
    c.query_scalar(
        "SELECT MIN(published_at) FROM posts WHERE live = 0 AND status = 'published' AND published_at > ?",
        params![now],
    )
}

/// Deletes a post (its tag links and comments go with it).
pub(super) fn delete_row(c: &mut Conn, id: i64) -> Result<bool> {
    Ok(c.execute("DELETE FROM posts WHERE id = ?", params![id])? == 1)
}

/// Every post record for `carnet export`.
pub fn export_records(c: &mut Conn) -> Result<Vec<PostRecord>> {
    let mut post_tags = super::tags::slugs_by_post(c)?;
    c.query(
        "SELECT p.id, p.title, p.slug, p.body_markdown, p.status, p.published_at, u.username, \
         p.custom_excerpt, p.cover_image, p.comments_enabled, p.created_at, p.updated_at \
         FROM posts p JOIN users u ON u.id = p.author_id ORDER BY p.id",
        params![],
    )?
    .iter()
    .map(|r| {
        let id: i64 = r.get(0)?;
        Ok(PostRecord {
            title: r.get(1)?,
            slug: Some(r.get(2)?),
            body_markdown: r.get(3)?,
            status: r.get(4)?,
            published_at: r.get::<Option<i64>>(5)?.map(dates::rfc3339),
            author: r.get(6)?,
            tags: post_tags.remove(&id).unwrap_or_default(),
            excerpt: r.get(7)?,
            cover_image: r.get(8)?,
            comments_enabled: r.get(9)?,
            created_at: Some(dates::rfc3339(r.get(10)?)),
            updated_at: Some(dates::rfc3339(r.get(11)?)),
        })
    })
    .collect()
}

/// The content version and the next scheduled publication: what the page cache
/// checks before serving (`web::cache::FreshnessFn`).
pub fn freshness(c: &mut Conn, now: i64) -> Result<Freshness> {
    let row = c.query_opt(
        "SELECT (SELECT version FROM content_version WHERE id = 1), \
         (SELECT MIN(published_at) FROM posts WHERE status = 'published' AND published_at > ?)",
        params![now],
    )?;
    Ok(match row {
        Some(r) => Freshness {
            version: r.get::<Option<i64>>(0)?.unwrap_or(0),
            next_publish: r.get(1)?,
        },
        None => Freshness {
            version: 0,
            next_publish: None,
        },
    })
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
                 WHERE c.post_id = ? AND c.status = 'approved' ORDER BY c.created_at, c.id".to_owned(),
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
