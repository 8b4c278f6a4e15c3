//! Export: every user, tag, post, page, comment, media record and admin
//! setting as a `SiteFile`, with every column that is not derived (rendered
//! HTML, excerpts and the search index are made again on import).

use std::collections::HashMap;

use super::format::{
    CommentRecord, MediaRecord, PageRecord, PostRecord, SiteFile, TagRecord, UserRecord,
    VariantRecord,
};
use crate::db::Conn;
use crate::error::Result;
use crate::{dates, params};

pub fn export(c: &mut Conn) -> Result<SiteFile> {
    Ok(SiteFile {
        format: "carnet".into(),
        version: 1,
        users: users(c)?,
        tags: tags(c)?,
        posts: posts(c)?,
        pages: pages(c)?,
        comments: comments(c)?,
        media: media(c)?,
        settings: crate::site_settings::all(c)?,
    })
}

fn users(c: &mut Conn) -> Result<Vec<UserRecord>> {
    c.query(
        "SELECT username, email, display_name, bio, avatar, role, password_hash, is_active, email_confirmed, \
         created_at, updated_at FROM users ORDER BY id",
        params![],
    )?
    .iter()
    .map(|r| {
        Ok(UserRecord {
            username: r.get(0)?,
            email: r.get(1)?,
            display_name: r.get(2)?,
            bio: r.get(3)?,
            avatar: r.get(4)?,
            role: r.get(5)?,
            password_hash: r.get(6)?,
            is_active: r.get(7)?,
            email_confirmed: r.get(8)?,
            created_at: Some(dates::rfc3339(r.get(9)?)),
            updated_at: Some(dates::rfc3339(r.get(10)?)),
        })
    })
    .collect()
}

fn tags(c: &mut Conn) -> Result<Vec<TagRecord>> {
    c.query("SELECT name, slug FROM tags ORDER BY slug", params![])?
        .iter()
        .map(|r| {
            Ok(TagRecord {
                name: r.get(0)?,
                slug: Some(r.get(1)?),
            })
        })
        .collect()
}

fn posts(c: &mut Conn) -> Result<Vec<PostRecord>> {
    let mut post_tags: HashMap<i64, Vec<String>> = HashMap::new();
    for r in c.query(
        "SELECT pt.post_id, t.slug FROM post_tags pt JOIN tags t ON t.id = pt.tag_id ORDER BY t.slug",
        params![],
    )? {
        post_tags.entry(r.get(0)?).or_default().push(r.get(1)?);
    }
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

fn pages(c: &mut Conn) -> Result<Vec<PageRecord>> {
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

/// Comments in the order they were written, numbered 1, 2, 3… in the file
/// (database ids differ between sites; the numbers only link replies).
fn comments(c: &mut Conn) -> Result<Vec<CommentRecord>> {
    let rows = c.query(
        "SELECT c.id, p.slug, c.parent_id, u.username, c.author_name, c.author_email, c.body, c.status, \
         c.created_at, c.ip, c.notify_replies, c.unsubscribe_hash \
         FROM comments c JOIN posts p ON p.id = c.post_id LEFT JOIN users u ON u.id = c.user_id ORDER BY c.id",
        params![],
    )?;
    let mut number: HashMap<i64, i64> = HashMap::with_capacity(rows.len());
    let mut out = Vec::with_capacity(rows.len());
    for (n, r) in (1..).zip(&rows) {
        number.insert(r.get(0)?, n);
        let parent: Option<i64> = r.get(2)?;
        out.push(CommentRecord {
            id: Some(n),
            post: r.get(1)?,
            // Parents are always older, so already numbered.
            parent: parent.and_then(|p| number.get(&p).copied()),
            user: r.get(3)?,
            author_name: r.get(4)?,
            author_email: r.get(5)?,
            body: r.get(6)?,
            status: r.get(7)?,
            created_at: dates::rfc3339(r.get(8)?),
            ip: r.get(9)?,
            notify_replies: r.get(10)?,
            unsubscribe_hash: r.get(11)?,
        });
    }
    Ok(out)
}

fn media(c: &mut Conn) -> Result<Vec<MediaRecord>> {
    c.query(
        "SELECT m.file_name, m.original_name, m.mime, m.size_bytes, m.width, m.height, m.thumb, m.variants, \
         u.username, m.created_at FROM media m LEFT JOIN users u ON u.id = m.uploader_id ORDER BY m.id",
        params![],
    )?
    .iter()
    .map(|r| {
        let variants: String = r.get(7)?;
        let variants: Vec<crate::media::library::Variant> =
            serde_json::from_str(&variants).unwrap_or_default();
        Ok(MediaRecord {
            file_name: r.get(0)?,
            original_name: r.get(1)?,
            mime: r.get(2)?,
            size_bytes: r.get(3)?,
            width: r.get(4)?,
            height: r.get(5)?,
            thumb: r.get(6)?,
            variants: variants
                .into_iter()
                .map(|v| VariantRecord {
                    width: v.width,
                    file: v.file,
                })
                .collect(),
            uploader: r.get(8)?,
            created_at: Some(dates::rfc3339(r.get(9)?)),
        })
    })
    .collect()
}
