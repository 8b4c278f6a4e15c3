//! The `tags` and `post_tags` tables (their one owner).

use super::model::TagCount;
use super::posts::PUBLIC;
use crate::db::Conn;
use crate::error::Result;
use crate::params;
use crate::transfer::format::TagRecord;

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
                url: super::links::tag(&slug),
                slug,
                count,
                weight: (1 + (count * 4) / max) as u8,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((tags, total))
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

/// The names of a post's tags, alphabetically.
pub fn names_of_post(c: &mut Conn, post_id: i64) -> Result<Vec<String>> {
    c.query(
        "SELECT t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = ? ORDER BY t.name",
        params![post_id],
    )?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// Every tag as (name, slug), alphabetically.
pub fn all(c: &mut Conn) -> Result<Vec<(String, String)>> {
    c.query("SELECT name, slug FROM tags ORDER BY name", params![])?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect()
}

/// The ids of tags given as (name, slug), each created when missing.
pub fn ensure_all(c: &mut Conn, tags: &[(String, String)]) -> Result<Vec<i64>> {
    tags.iter()
        .map(|(name, slug)| ensure_tag(c, name, slug))
        .collect()
}

/// A tag in the admin list, with how many posts carry it.
#[derive(Debug, serde::Serialize)]
pub struct Listed {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub post_count: i64,
}

/// Every tag, alphabetically, for the admin.
pub fn listed(c: &mut Conn) -> Result<Vec<Listed>> {
    c.query(
        "SELECT t.id, t.name, t.slug, COUNT(pt.post_id) FROM tags t LEFT JOIN post_tags pt ON pt.tag_id = t.id \
         GROUP BY t.id, t.name, t.slug ORDER BY t.name",
        params![],
    )?
    .iter()
    .map(|r| {
        Ok(Listed {
            id: r.get(0)?,
            name: r.get(1)?,
            slug: r.get(2)?,
            post_count: r.get(3)?,
        })
    })
    .collect()
}

/// What became of a rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renamed {
    Done,
    SlugTaken,
    NoSuchTag,
}

/// Renames tag `id` (name and slug), unless another tag has the slug.
pub fn rename(c: &mut Conn, id: i64, name: &str, slug: &str) -> Result<Renamed> {
    let taken: i64 = c.query_scalar(
        "SELECT COUNT(*) FROM tags WHERE slug = ? AND id <> ?",
        params![slug, id],
    )?;
    if taken > 0 {
        return Ok(Renamed::SlugTaken);
    }
    let n = c.execute(
        "UPDATE tags SET name = ?, slug = ? WHERE id = ?",
        params![name, slug, id],
    )?;
    Ok(if n == 0 {
        Renamed::NoSuchTag
    } else {
        Renamed::Done
    })
}

/// Sets the name of tag `id` (an import keeps the file's spelling).
pub fn set_name(c: &mut Conn, id: i64, name: &str) -> Result<()> {
    c.execute("UPDATE tags SET name = ? WHERE id = ?", params![name, id])?;
    Ok(())
}

/// Moves every post of tag `id` to the tag with slug `into`, then deletes
/// `id`; false when `into` is missing or is `id` itself.
pub fn merge(c: &mut Conn, id: i64, into: &str) -> Result<bool> {
    c.transaction(|c| {
        let Some(target) = c.query_opt("SELECT id FROM tags WHERE slug = ?", params![into])? else {
            return Ok(false);
        };
        let target: i64 = target.get(0)?;
        if target == id {
            return Ok(false);
        }
        c.execute(
            "INSERT INTO post_tags (post_id, tag_id) SELECT post_id, ? FROM post_tags WHERE tag_id = ? \
             AND post_id NOT IN (SELECT post_id FROM post_tags WHERE tag_id = ?)",
            params![target, id, target],
        )?;
        delete(c, id)
    })
}

/// Deletes tag `id` (its posts keep their other tags); false when there was none.
pub fn delete(c: &mut Conn, id: i64) -> Result<bool> {
    Ok(c.execute("DELETE FROM tags WHERE id = ?", params![id])? == 1)
}

/// Every tag record for `carnet export`.
pub fn export_records(c: &mut Conn) -> Result<Vec<TagRecord>> {
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

/// The tag slugs of every post, alphabetically (for exports).
pub fn slugs_by_post(c: &mut Conn) -> Result<std::collections::HashMap<i64, Vec<String>>> {
    let mut out: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
    for r in c.query(
        "SELECT pt.post_id, t.slug FROM post_tags pt JOIN tags t ON t.id = pt.tag_id ORDER BY t.slug",
        params![],
    )? {
        out.entry(r.get(0)?).or_default().push(r.get(1)?);
    }
    Ok(out)
}
