//! Export: every user, tag, post, page and comment as a `SiteFile`.

use std::collections::HashMap;

use super::format::{CommentRecord, PageRecord, PostRecord, SiteFile, TagRecord, UserRecord};
use crate::db::Conn;
use crate::error::Result;
use crate::{dates, params};

pub fn export(c: &mut Conn) -> Result<SiteFile> {
    let users = c
        .query(
            "SELECT username, email, display_name, bio, role, password_hash, is_active, created_at FROM users ORDER BY id",
            params![],
        )?
        .iter()
        .map(|r| {
            Ok(UserRecord {
                username: r.get(0)?,
                email: r.get(1)?,
                display_name: r.get(2)?,
                bio: r.get(3)?,
                role: r.get(4)?,
                password_hash: r.get(5)?,
                is_active: r.get(6)?,
                created_at: Some(dates::rfc3339(r.get(7)?)),
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let tags = c
        .query("SELECT name, slug FROM tags ORDER BY slug", params![])?
        .iter()
        .map(|r| {
            Ok(TagRecord {
                name: r.get(0)?,
                slug: Some(r.get(1)?),
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let mut post_tags: HashMap<i64, Vec<String>> = HashMap::new();
    for r in c.query(
        "SELECT pt.post_id, t.slug FROM post_tags pt JOIN tags t ON t.id = pt.tag_id ORDER BY t.slug",
        params![],
    )? {
        post_tags.entry(r.get(0)?).or_default().push(r.get(1)?);
    }
    let posts = c
        .query(
            "SELECT p.id, p.title, p.slug, p.body_markdown, p.status, p.published_at, u.username, \
             p.custom_excerpt, p.cover_image, p.comments_enabled \
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
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let pages = c
        .query(
            "SELECT title, slug, body_markdown FROM pages ORDER BY id",
            params![],
        )?
        .iter()
        .map(|r| {
            Ok(PageRecord {
                title: r.get(0)?,
                slug: Some(r.get(1)?),
                body_markdown: r.get(2)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    // Comments keep the address they were written with: it is part of their
    // identity on re-import. A member's comment shows their current name.
    let comments = c
        .query(
            "SELECT c.id, p.slug, c.parent_id, COALESCE(NULLIF(u.display_name, ''), u.username, c.author_name), \
             c.author_email, c.body, c.status, c.created_at \
             FROM comments c JOIN posts p ON p.id = c.post_id LEFT JOIN users u ON u.id = c.user_id ORDER BY c.id",
            params![],
        )?
        .iter()
        .map(|r| {
            Ok(CommentRecord {
                id: Some(r.get(0)?),
                post: r.get(1)?,
                parent: r.get(2)?,
                author_name: r.get(3)?,
                author_email: r.get(4)?,
                body: r.get(5)?,
                status: r.get(6)?,
                created_at: dates::rfc3339(r.get(7)?),
            })
        })
        .collect::<Result<Vec<_>>>()?;

    Ok(SiteFile {
        format: "carnet".into(),
        version: 1,
        users,
        tags,
        posts,
        pages,
        comments,
    })
}
