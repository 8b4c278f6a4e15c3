//! The `pages` table (its one owner): static pages.

use super::model::StaticPage;
use serde::Serialize;

use super::body::render_body;
use super::model::PostStatus;
use crate::db::Conn;
use crate::error::{Error, Result};
use crate::ground::markdown::Rendered;
use crate::ground::{dates, slugs};
use crate::params;
use crate::transfer::format::PageRecord;
use crate::web::view::NavLink;

pub fn page_by_slug(c: &mut Conn, slug: &str) -> Result<Option<StaticPage>> {
    let Some(r) = c.query_opt(
        "SELECT id, title, slug, body_html, updated_at FROM pages WHERE slug = ? AND status = 'published'",
        params![slug],
    )?
    else {
        return Ok(None);
    };
    let slug: String = r.get(2)?;
    let updated: i64 = r.get(4)?;
    Ok(Some(StaticPage {
        id: r.get(0)?,
        title: r.get(1)?,
        url: super::links::page(&slug),
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
            url: super::links::page(&slug),
        })
    })
    .collect()
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
    let existing: Option<i64> = c
        .query_opt("SELECT id FROM pages WHERE slug = ?", params![&p.slug])?
        .map(|row| row.get(0))
        .transpose()?;
    let rendered = render_body(c, &p.body_markdown)?;
    let id = save(c, existing, p, &rendered)?;
    if existing.is_some() {
        // An import keeps the file's creation time too.
        c.execute(
            "UPDATE pages SET created_at = ? WHERE id = ?",
            params![p.created_at, id],
        )?;
    }
    Ok(id)
}

/// A slug free among pages: `base`, else `base-2`, `base-3`…
pub fn free_slug(c: &mut Conn, base: &str, except: Option<i64>) -> Result<String> {
    slugs::first_free(base, |candidate| slug_taken(c, candidate, except))
}

/// True when another page than `except` uses `slug`.
pub fn slug_taken(c: &mut Conn, slug: &str, except: Option<i64>) -> Result<bool> {
    let n: i64 = c.query_scalar(
        "SELECT COUNT(*) FROM pages WHERE slug = ? AND id <> ?",
        params![slug, except.unwrap_or(-1)],
    )?;
    Ok(n > 0)
}

/// A page in the admin list.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub id: i64,
    pub title: String,
    pub slug: String,
    pub status: String,
    pub show_in_nav: bool,
    pub nav_order: i64,
    pub edit_url: String,
    pub view_url: Option<String>,
}

/// Every page, in navigation order, for the admin.
pub fn listed(c: &mut Conn) -> Result<Vec<Listed>> {
    c.query(
        "SELECT id, title, slug, status, show_in_nav, nav_order FROM pages ORDER BY nav_order, title",
        params![],
    )?
    .iter()
    .map(|r| {
        let id: i64 = r.get(0)?;
        let slug: String = r.get(2)?;
        let status: String = r.get(3)?;
        Ok(Listed {
            id,
            title: r.get(1)?,
            view_url: (status == "published").then(|| super::links::page(&slug)),
            slug,
            status,
            show_in_nav: r.get(4)?,
            nav_order: r.get(5)?,
            edit_url: format!("/admin/pages/{id}/edit"),
        })
    })
    .collect()
}

/// A page as the editor opens it.
pub fn editing(c: &mut Conn, id: i64) -> Result<PageInput> {
    let r = c
        .query_opt(
            "SELECT title, slug, body_markdown, status, show_in_nav, nav_order, created_at, updated_at \
             FROM pages WHERE id = ?",
            params![id],
        )?
        .ok_or(Error::NotFound)?;
    let status: String = r.get(3)?;
    Ok(PageInput {
        title: r.get(0)?,
        slug: r.get(1)?,
        body_markdown: r.get(2)?,
        status: PostStatus::parse(&status).unwrap_or(PostStatus::Draft),
        show_in_nav: r.get(4)?,
        nav_order: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

/// Creates the page (`id` = None, with `p.created_at`) or replaces page `id`
/// (keeping its creation time); returns its id. `r` is the body rendered
/// before the transaction (`blog::body::render_body`).
pub fn save(c: &mut Conn, id: Option<i64>, p: &PageInput, r: &Rendered) -> Result<i64> {
    match id {
        Some(id) => {
            c.execute(
                "UPDATE pages SET title = ?, slug = ?, body_markdown = ?, body_html = ?, body_text = ?, status = ?, \
                 show_in_nav = ?, nav_order = ?, updated_at = ? WHERE id = ?",
                params![&p.title, &p.slug, &p.body_markdown, &r.html, &r.text, p.status.as_str(), p.show_in_nav,
                    p.nav_order, p.updated_at, id],
            )?;
            Ok(id)
        }
        None => c.insert(
            "INSERT INTO pages (title, slug, body_markdown, body_html, body_text, status, show_in_nav, nav_order, \
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![&p.title, &p.slug, &p.body_markdown, &r.html, &r.text, p.status.as_str(), p.show_in_nav,
                p.nav_order, p.created_at, p.updated_at],
        ),
    }
}

/// Deletes page `id`; false when there was none.
pub fn delete(c: &mut Conn, id: i64) -> Result<bool> {
    Ok(c.execute("DELETE FROM pages WHERE id = ?", params![id])? > 0)
}

/// Every page record for `carnet export`.
pub fn export_records(c: &mut Conn) -> Result<Vec<PageRecord>> {
    c.query(
        "SELECT title, slug, body_markdown, status, show_in_nav, nav_order, created_at, updated_at \
         FROM pages ORDER BY id",
        params![],
    )?
    .iter()
    .map(|r| {
        Ok(PageRecord {
            title: r.get(0)?,
            slug: Some(r.get(1)?),
            body_markdown: r.get(2)?,
            status: r.get(3)?,
            show_in_nav: r.get(4)?,
            nav_order: r.get(5)?,
            created_at: Some(dates::rfc3339(r.get(6)?)),
            updated_at: Some(dates::rfc3339(r.get(7)?)),
        })
    })
    .collect()
}
