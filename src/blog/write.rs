//! The write side of the blog: saving posts, pages and tags. Markdown is rendered
//! here, once, so no page ever renders it at request time.

use super::model::PostStatus;
use crate::db::Conn;
use crate::error::Result;
use crate::markdown;
use crate::params;

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

/// Creates the post, or updates the one with the same slug; returns its id.
pub fn upsert_post_by_slug(c: &mut Conn, p: &PostInput, now: i64) -> Result<i64> {
    let r = markdown::render_post(&p.body_markdown);
    let existing: Option<i64> = c
        .query_opt("SELECT id FROM posts WHERE slug = ?", params![&p.slug])?
        .map(|row| row.get(0))
        .transpose()?;
    match existing {
        Some(id) => {
            c.execute(
                "UPDATE posts SET title = ?, body_markdown = ?, body_html = ?, excerpt = ?, custom_excerpt = ?, \
                 cover_image = ?, status = ?, published_at = ?, author_id = ?, comments_enabled = ?, \
                 reading_minutes = ?, updated_at = ? WHERE id = ?",
                params![&p.title, &p.body_markdown, r.html, r.excerpt, p.custom_excerpt.as_deref(),
                    p.cover_image.as_deref(), p.status.as_str(), p.published_at, p.author_id,
                    p.comments_enabled, r.reading_minutes, now, id],
            )?;
            Ok(id)
        }
        None => c.insert(
            "INSERT INTO posts (title, slug, body_markdown, body_html, excerpt, custom_excerpt, cover_image, \
             status, published_at, author_id, comments_enabled, reading_minutes, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![&p.title, &p.slug, &p.body_markdown, r.html, r.excerpt, p.custom_excerpt.as_deref(),
                p.cover_image.as_deref(), p.status.as_str(), p.published_at, p.author_id,
                p.comments_enabled, r.reading_minutes, now, now],
        ),
    }
}

/// The tag with this slug, created with `name` when missing; returns its id.
pub fn ensure_tag(c: &mut Conn, name: &str, slug: &str) -> Result<i64> {
    if let Some(row) = c.query_opt("SELECT id FROM tags WHERE slug = ?", params![slug])? {
        return row.get(0);
    }
    c.insert(
        "INSERT INTO tags (name, slug) VALUES (?, ?)",
        params![name, slug],
    )
}

/// Replaces the tags of a post.
pub fn set_post_tags(c: &mut Conn, post_id: i64, tag_ids: &[i64]) -> Result<()> {
    c.execute("DELETE FROM post_tags WHERE post_id = ?", params![post_id])?;
    for tag_id in tag_ids {
        c.execute(
            "INSERT INTO post_tags (post_id, tag_id) VALUES (?, ?)",
            params![post_id, *tag_id],
        )?;
    }
    Ok(())
}

/// Creates the page, or updates the one with the same slug; returns its id.
pub fn upsert_page_by_slug(
    c: &mut Conn,
    title: &str,
    slug: &str,
    body_markdown: &str,
    now: i64,
) -> Result<i64> {
    let html = markdown::render_post(body_markdown).html;
    let existing: Option<i64> = c
        .query_opt("SELECT id FROM pages WHERE slug = ?", params![slug])?
        .map(|row| row.get(0))
        .transpose()?;
    match existing {
        Some(id) => {
            c.execute(
                "UPDATE pages SET title = ?, body_markdown = ?, body_html = ?, updated_at = ? WHERE id = ?",
                params![title, body_markdown, html, now, id],
            )?;
            Ok(id)
        }
        None => c.insert(
            "INSERT INTO pages (title, slug, body_markdown, body_html, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            params![title, slug, body_markdown, html, now, now],
        ),
    }
}
