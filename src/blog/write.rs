//! The write side of the blog: saving posts, pages and tags. Markdown is rendered
//! here, once, so no page ever renders it at request time.

use super::model::PostStatus;
use crate::db::Conn;
use crate::error::Result;
use std::collections::HashMap;

use crate::markdown;
use crate::media::library;
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

/// Renders a body, giving library images their resized copies as `srcset`.
pub fn render_body(c: &mut Conn, body: &str) -> Result<markdown::Rendered> {
    let mut srcsets = HashMap::new();
    for url in markdown::media_images(body) {
        let name = url.trim_start_matches("/media/");
        if let Some(set) = library::by_file_name(c, name)?
            .as_ref()
            .and_then(library::srcset)
        {
            srcsets.insert(url, set);
        }
    }
    Ok(markdown::render_post_with(body, &srcsets))
}

/// Creates the post (`id` = None) or replaces post `id`; returns its id.
pub fn save_post(c: &mut Conn, id: Option<i64>, p: &PostInput, now: i64) -> Result<i64> {
    let r = render_body(c, &p.body_markdown)?;
    match id {
        Some(id) => {
            c.execute(
                "UPDATE posts SET title = ?, slug = ?, body_markdown = ?, body_html = ?, body_text = ?, excerpt = ?, \
                 custom_excerpt = ?, cover_image = ?, status = ?, published_at = ?, author_id = ?, comments_enabled = ?, \
                 reading_minutes = ?, updated_at = ? WHERE id = ?",
                params![&p.title, &p.slug, &p.body_markdown, r.html, r.text, r.excerpt, p.custom_excerpt.as_deref(),
                    p.cover_image.as_deref(), p.status.as_str(), p.published_at, p.author_id,
                    p.comments_enabled, r.reading_minutes, now, id],
            )?;
            Ok(id)
        }
        None => c.insert(
            "INSERT INTO posts (title, slug, body_markdown, body_html, body_text, excerpt, custom_excerpt, cover_image, \
             status, published_at, author_id, comments_enabled, reading_minutes, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![&p.title, &p.slug, &p.body_markdown, r.html, r.text, r.excerpt, p.custom_excerpt.as_deref(),
                p.cover_image.as_deref(), p.status.as_str(), p.published_at, p.author_id,
                p.comments_enabled, r.reading_minutes, now, now],
        ),
    }
}

/// The id of the post with this slug.
pub fn post_id_by_slug(c: &mut Conn, slug: &str) -> Result<Option<i64>> {
    c.query_opt("SELECT id FROM posts WHERE slug = ?", params![slug])?
        .map(|row| row.get(0))
        .transpose()
}

/// Creates the post, or updates the one with the same slug; returns its id.
pub fn upsert_post_by_slug(c: &mut Conn, p: &PostInput, now: i64) -> Result<i64> {
    let existing = post_id_by_slug(c, &p.slug)?;
    save_post(c, existing, p, now)
}

/// A slug free among posts (or pages): `base`, else `base-2`, `base-3`…
pub fn free_slug(c: &mut Conn, table: Table, base: &str, except: Option<i64>) -> Result<String> {
    let base = if base.is_empty() {
        "untitled".to_string()
    } else {
        base.to_string()
    };
    for n in 1.. {
        let candidate = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        if !slug_taken(c, table, &candidate, except)? {
            return Ok(candidate);
        }
    }
    unreachable!("the loop returns")
}

#[derive(Debug, Clone, Copy)]
pub enum Table {
    Posts,
    Pages,
}

/// True when another row of `table` than `except` uses `slug`.
pub fn slug_taken(c: &mut Conn, table: Table, slug: &str, except: Option<i64>) -> Result<bool> {
    let sql = match table {
        Table::Posts => "SELECT COUNT(*) FROM posts WHERE slug = ? AND id <> ?",
        Table::Pages => "SELECT COUNT(*) FROM pages WHERE slug = ? AND id <> ?",
    };
    Ok(c.query_scalar::<i64>(sql, params![slug, except.unwrap_or(-1)])? > 0)
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

/// Everything a static page holds.
#[derive(Debug, Clone)]
pub struct PageInput {
    pub title: String,
    pub slug: String,
    pub body_markdown: String,
    pub status: PostStatus,
    pub show_in_nav: bool,
    pub nav_order: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Creates the page, or updates the one with the same slug; returns its id.
pub fn upsert_page_by_slug(c: &mut Conn, p: &PageInput) -> Result<i64> {
    let r = render_body(c, &p.body_markdown)?;
    let existing: Option<i64> = c
        .query_opt("SELECT id FROM pages WHERE slug = ?", params![&p.slug])?
        .map(|row| row.get(0))
        .transpose()?;
    match existing {
        Some(id) => {
            c.execute(
                "UPDATE pages SET title = ?, body_markdown = ?, body_html = ?, body_text = ?, status = ?, show_in_nav = ?, \
                 nav_order = ?, created_at = ?, updated_at = ? WHERE id = ?",
                params![&p.title, &p.body_markdown, r.html, r.text, p.status.as_str(), p.show_in_nav, p.nav_order,
                    p.created_at, p.updated_at, id],
            )?;
            Ok(id)
        }
        None => c.insert(
            "INSERT INTO pages (title, slug, body_markdown, body_html, body_text, status, show_in_nav, nav_order, \
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![&p.title, &p.slug, &p.body_markdown, r.html, r.text, p.status.as_str(), p.show_in_nav,
                p.nav_order, p.created_at, p.updated_at],
        ),
    }
}

/// Sets a post's creation and last-change times (import keeps the file's).
pub fn set_post_times(c: &mut Conn, id: i64, created: i64, updated: i64) -> Result<()> {
    c.execute(
        "UPDATE posts SET created_at = ?, updated_at = ? WHERE id = ?",
        params![created, updated, id],
    )?;
    Ok(())
}
