//! `/search?q=`: full-text search over published posts and pages (SQLite FTS5,
//! bm25 ranking with the title weighted above the body, highlighted snippets).
//! User text never reaches the query syntax: each word is quoted.

use rocket::{get, routes, Route, State};
use serde::Serialize;

use crate::dates;
use crate::db::{Conn, Db};
use crate::error::Result;
use crate::params;
use crate::web::cache::CacheKey;
use crate::web::view::Page;
use crate::web::{pagination, Pagination, Site, View};

pub fn routes() -> Vec<Route> {
    routes![search]
}

/// At most this many words of a query are used.
const MAX_TERMS: usize = 12;

/// The FTS5 query for free text: every word quoted (so `AND`, `*`, `"`, `:`,
/// `NEAR(`… are plain words), all required. `None` when there is no word.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_TERMS)
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

#[derive(Debug, Serialize)]
pub struct Hit {
    pub kind: &'static str,
    pub title: String,
    pub url: String,
    /// Escaped text with the matches in `<mark>`.
    pub snippet_html: String,
    pub date_display: Option<String>,
}

// Markers that cannot appear in indexed text, turned into <mark> after escaping.
const OPEN: &str = "\u{1}";
const CLOSE: &str = "\u{2}";

fn highlight(raw: &str) -> String {
    crate::web::templates::escape_html(raw)
        .replace(OPEN, "<mark>")
        .replace(CLOSE, "</mark>")
}

/// Public posts and published pages only.
const VISIBLE: &str = "((s.rowid % 2 = 0 AND p.status = 'published' AND p.published_at <= ?) \
                       OR (s.rowid % 2 = 1 AND g.status = 'published'))";
const JOINS: &str = "LEFT JOIN posts p ON s.rowid % 2 = 0 AND p.id = s.rowid / 2 \
                     LEFT JOIN pages g ON s.rowid % 2 = 1 AND g.id = s.rowid / 2";

pub fn count(c: &mut Conn, query: &str, now: i64) -> Result<i64> {
    c.query_scalar(
        &format!(
            "SELECT COUNT(*) FROM search_index s {JOINS} WHERE search_index MATCH ? AND {VISIBLE}"
        ),
        params![query, now],
    )
}

/// One page of results, best first. The inner query ranks and cuts the page;
/// snippets are made only for the rows shown.
pub fn hits(c: &mut Conn, query: &str, now: i64, limit: u32, offset: i64) -> Result<Vec<Hit>> {
    let sql = format!(
        "SELECT s.rowid % 2, COALESCE(p.title, g.title), COALESCE(p.slug, g.slug), p.published_at, \
         snippet(search_index, 1, '{OPEN}', '{CLOSE}', '…', 24) \
         FROM search_index s {JOINS} \
         WHERE search_index MATCH ? AND s.rowid IN ( \
             SELECT s.rowid FROM search_index s {JOINS} WHERE search_index MATCH ? AND {VISIBLE} \
             ORDER BY bm25(search_index, 10.0, 1.0), s.rowid LIMIT ? OFFSET ?) \
         ORDER BY bm25(search_index, 10.0, 1.0), s.rowid"
    );
    c.query(&sql, params![query, query, now, limit, offset])?
        .iter()
        .map(|r| {
            let is_page: i64 = r.get(0)?;
            let slug: String = r.get(2)?;
            let snippet: String = r.get(4)?;
            let (kind, url) = if is_page == 1 {
                ("page", format!("/pages/{slug}"))
            } else {
                ("post", format!("/posts/{slug}"))
            };
            Ok(Hit {
                kind,
                title: r.get(1)?,
                url,
                snippet_html: highlight(&snippet),
                date_display: r.get::<Option<i64>>(3)?.map(dates::display),
            })
        })
        .collect()
}

#[get("/search?<q>&<page>")]
async fn search(
    db: &State<Db>,
    site: Site<'_>,
    key: CacheKey,
    q: Option<String>,
    page: Option<&str>,
) -> Result<Page> {
    if let Some(hit) = site.cached(&key, None) {
        return Ok(hit);
    }
    let text: String = q.unwrap_or_default().chars().take(1000).collect();
    let page = pagination::requested(page)?;
    let per_page = site.settings.posts_per_page;
    let path = format!(
        "/search?q={}",
        percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC)
    );
    let (hits, pager) = match fts_query(&text) {
        None => (Vec::new(), None),
        Some(query) => {
            let (hits, total) = db
                .run(move |c| {
                    let now = dates::now();
                    let total = count(c, &query, now)?;
                    Ok((
                        hits(c, &query, now, per_page, pagination::offset(page, per_page))?,
                        total,
                    ))
                })
                .await?;
            let pager = Pagination::new(page, per_page, total, &path)?;
            (hits, Some(pager))
        }
    };
    if pager.is_none() && page > 1 {
        return Err(crate::error::Error::NotFound);
    }
    Ok(View::new("search.html")
        .title(if text.trim().is_empty() {
            "Search".to_string()
        } else {
            format!("Search: {}", text.trim())
        })
        .with("q", text.trim())
        .with("total", pager.as_ref().map_or(0, |p| p.total))
        .with("hits", hits)
        .with("pagination", pager)
        .with("meta_robots", "noindex")
        .page(&site, &key, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_quoted() {
        assert_eq!(
            fts_query("rust AND \"web\" *"),
            Some(r#""rust" "AND" "web""#.to_string())
        );
        assert_eq!(
            fts_query("NEAR(a b) title:x"),
            Some(r#""NEAR" "a" "b" "title" "x""#.to_string())
        );
        assert_eq!(fts_query("  %% ** \"\" "), None);
        assert_eq!(fts_query("café"), Some("\"café\"".to_string()));
        assert_eq!(
            fts_query(&"word ".repeat(500))
                .unwrap()
                .matches('"')
                .count(),
            2 * MAX_TERMS
        );
    }
}
