//! `/search?q=`: full-text search over published posts and pages, ranked with
//! the title weighted above the body, with highlighted snippets. The query of
//! each backend is in `db::search`; user text reaches it as plain words only.

use rocket::{get, routes, Route, State};
use serde::Serialize;

use crate::db::{self, Conn, Db};
use crate::error::Result;
use crate::ground::dates;
use crate::web::cache::CacheKey;
use crate::web::view::PageResponse;
use crate::web::{pagination, Pagination, Site, View};

pub fn routes() -> Vec<Route> {
    routes![search]
}

/// At most this many words of a query are used.
const MAX_TERMS: usize = 12;

/// The words of a query: letters and digits only (so no query syntax of any
/// backend gets through), at most `MAX_TERMS`. Empty when there is no word.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_TERMS)
        .map(str::to_owned)
        .collect()
}

#[derive(Debug, Serialize)]
pub struct SearchResult {
    pub kind: &'static str,
    pub title: String,
    pub url: String,
    /// Escaped text with the matches in `<mark>`.
    pub snippet_html: String,
    pub date_display: Option<String>,
}

fn highlight(raw: &str) -> String {
    crate::ground::html::escape_html(raw)
        .replace(db::search::OPEN, "<mark>")
        .replace(db::search::CLOSE, "</mark>")
}

/// One page of results, best first.
pub fn hits(
    c: &mut Conn,
    words: &[String],
    now: i64,
    limit: u32,
    offset: i64,
) -> Result<Vec<SearchResult>> {
    Ok(db::search::page(c, words, now, limit, offset)?
        .into_iter()
        .map(|row| {
            let (kind, url) = if row.is_page {
                ("page", crate::blog::links::page(&row.slug))
            } else {
                ("post", crate::blog::links::post(&row.slug))
            };
            SearchResult {
                kind,
                title: row.title,
                url,
                snippet_html: highlight(&row.snippet),
                date_display: row.published_at.map(dates::display),
            }
        })
        .collect())
}

#[get("/search?<q>&<page>")]
async fn search(
    db: &State<Db>,
    site: Site<'_>,
    key: CacheKey,
    q: Option<String>,
    page: Option<&str>,
) -> Result<PageResponse> {
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
    let words = words(&text);
    let (hits, pager) = match words.is_empty() {
        true => (Vec::new(), None),
        false => {
            let (hits, total) = db
                .run(move |c| {
                    let now = dates::now();
                    let total = db::search::count(c, &words, now)?;
                    Ok((
                        hits(c, &words, now, per_page, pagination::offset(page, per_page))?,
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
            "Search".to_owned()
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
        let q = |text: &str| db::search::fts5_query(&words(text));
        assert_eq!(q("rust AND \"web\" *"), r#""rust" "AND" "web""#);
        assert_eq!(q("NEAR(a b) title:x"), r#""NEAR" "a" "b" "title" "x""#);
        assert!(words("  %% ** \"\" ").is_empty());
        assert_eq!(q("café"), "\"café\"");
        assert_eq!(words(&"word ".repeat(500)).len(), MAX_TERMS);
    }
}
