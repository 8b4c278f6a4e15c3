//! Full-text search, the one query that each backend writes its own way:
//! SQLite FTS5 (bm25), PostgreSQL `tsvector` + GIN (`ts_rank`), MySQL/MariaDB
//! `FULLTEXT` (boolean mode). All three take the same plain words, require every
//! one of them, rank a title match ten times a body match, and return the same
//! rows; user text never reaches any query syntax.

use super::{Backend, Conn};
use crate::error::Result;
use crate::params;

/// Markers that cannot appear in indexed text around each match in a snippet,
/// turned into `<mark>` after escaping.
pub const OPEN: &str = "\u{1}";
pub const CLOSE: &str = "\u{2}";

/// How many words a snippet shows.
const SNIPPET_WORDS: usize = 24;

/// One result: a published post or page.
#[derive(Debug, Clone)]
pub struct SearchRow {
    pub is_page: bool,
    pub title: String,
    pub slug: String,
    pub published_at: Option<i64>,
    /// Plain text with the matches between `OPEN` and `CLOSE`.
    pub snippet: String,
}

/// How many public posts and pages contain every word.
pub fn count(c: &mut Conn, words: &[String], now: i64) -> Result<i64> {
    match c.backend() {
        Backend::Sqlite => c.query_scalar(
            &format!(
                "SELECT COUNT(*) FROM search_index s {FTS_JOINS} WHERE search_index MATCH ? AND {FTS_VISIBLE}"
            ),
            params![fts5_query(words), now],
        ),
        Backend::Postgres => c.query_scalar(
            "SELECT (SELECT COUNT(*) FROM posts WHERE search_vector @@ plainto_tsquery('simple', ?) \
                     AND status = 'published' AND published_at <= ?) \
                  + (SELECT COUNT(*) FROM pages WHERE search_vector @@ plainto_tsquery('simple', ?) \
                     AND status = 'published')",
            params![words.join(" "), now, words.join(" ")],
        ),
        Backend::Mysql => {
            let Some(q) = &mysql_query(words) else {
                return Ok(0);
            };
            c.query_scalar(
                "SELECT (SELECT COUNT(*) FROM posts WHERE MATCH (title, body_text) AGAINST (? IN BOOLEAN MODE) \
                         AND status = 'published' AND published_at <= ?) \
                      + (SELECT COUNT(*) FROM pages WHERE MATCH (title, body_text) AGAINST (? IN BOOLEAN MODE) \
                         AND status = 'published')",
                params![q, now, q],
            )
        }
    }
}

/// One page of results, best first; snippets are made only for the rows shown.
pub fn page(
    c: &mut Conn,
    words: &[String],
    now: i64,
    limit: u32,
    offset: i64,
) -> Result<Vec<SearchRow>> {
    let rows = match c.backend() {
        Backend::Sqlite => {
            let q = &fts5_query(words);
            c.query(
                &format!(
                    "SELECT s.rowid % 2, COALESCE(p.title, g.title), COALESCE(p.slug, g.slug), p.published_at, \
                     snippet(search_index, 1, '{OPEN}', '{CLOSE}', '…', {SNIPPET_WORDS}) \
                     FROM search_index s {FTS_JOINS} \
                     WHERE search_index MATCH ? AND s.rowid IN ( \
                         SELECT s.rowid FROM search_index s {FTS_JOINS} WHERE search_index MATCH ? AND {FTS_VISIBLE} \
                         ORDER BY bm25(search_index, 10.0, 1.0), s.rowid LIMIT ? OFFSET ?) \
                     ORDER BY bm25(search_index, 10.0, 1.0), s.rowid"
                ),
                params![q, q, now, limit, offset],
            )?
        }
        Backend::Postgres => {
            let q = &words.join(" ");
            // Title is weight A, body weight B: {D, C, B, A} weights make A count 10× B.
            let rank =
                "ts_rank('{0.1, 0.1, 0.1, 1.0}', search_vector, plainto_tsquery('simple', ?))";
            c.query(
                &format!(
                    "SELECT kind, title, slug, published_at, \
                            ts_headline('simple', body_text, plainto_tsquery('simple', ?), ?) \
                     FROM ( \
                         SELECT 0 AS kind, id, title, slug, published_at, body_text, {rank} AS score \
                         FROM posts WHERE search_vector @@ plainto_tsquery('simple', ?) \
                         AND status = 'published' AND published_at <= ? \
                         UNION ALL \
                         SELECT 1, id, title, slug, NULL, body_text, {rank} \
                         FROM pages WHERE search_vector @@ plainto_tsquery('simple', ?) AND status = 'published' \
                         ORDER BY score DESC, kind, id LIMIT ? OFFSET ? \
                     ) hits ORDER BY score DESC, kind, id"
                ),
                params![
                    q,
                    format!(
                        "StartSel={OPEN}, StopSel={CLOSE}, MaxWords={SNIPPET_WORDS}, MinWords={}, ShortWord=0",
                        SNIPPET_WORDS / 2
                    ),
                    q,
                    q,
                    now,
                    q,
                    q,
                    limit,
                    offset
                ],
            )?
        }
        Backend::Mysql => {
            let Some(q) = &mysql_query(words) else {
                return Ok(Vec::new());
            };
            let score = "MATCH (title) AGAINST (? IN BOOLEAN MODE) * 10 \
                         + MATCH (title, body_text) AGAINST (? IN BOOLEAN MODE)";
            let mut rows = c.query(
                &format!(
                    "SELECT kind, title, slug, published_at, body_text FROM ( \
                         SELECT 0 AS kind, id, title, slug, published_at, body_text, {score} AS score \
                         FROM posts WHERE MATCH (title, body_text) AGAINST (? IN BOOLEAN MODE) \
                         AND status = 'published' AND published_at <= ? \
                         UNION ALL \
                         SELECT 1, id, title, slug, NULL, body_text, {score} \
                         FROM pages WHERE MATCH (title, body_text) AGAINST (? IN BOOLEAN MODE) \
                         AND status = 'published' \
                     ) hits ORDER BY score DESC, kind, id LIMIT ? OFFSET ?"
                ),
                params![q, q, q, now, q, q, q, limit, offset],
            )?;
            for row in &mut rows {
                let body: String = row.get(4)?;
                row.0[4] = snippet(&body, words).into();
            }
            rows
        }
    };
    rows.iter()
        .map(|r| {
            Ok(SearchRow {
                is_page: r.get::<i64>(0)? == 1,
                title: r.get(1)?,
                slug: r.get(2)?,
                published_at: r.get(3)?,
                snippet: r.get::<Option<String>>(4)?.unwrap_or_default(),
            })
        })
        .collect()
}

/// Public posts and published pages only (SQLite: the FTS rowid is 2 × post id
/// or 2 × page id + 1).
const FTS_VISIBLE: &str = "((s.rowid % 2 = 0 AND p.status = 'published' AND p.published_at <= ?) \
                           OR (s.rowid % 2 = 1 AND g.status = 'published'))";
const FTS_JOINS: &str = "LEFT JOIN posts p ON s.rowid % 2 = 0 AND p.id = s.rowid / 2 \
                         LEFT JOIN pages g ON s.rowid % 2 = 1 AND g.id = s.rowid / 2";

/// FTS5: every word quoted (so `AND`, `*`, `NEAR(`… are plain words), all required.
pub fn fts5_query(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words InnoDB leaves out of its full-text index (its default stopword list).
const INNODB_STOPWORDS: &[&str] = &[
    "a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en", "for", "from", "how",
    "i", "in", "is", "it", "la", "of", "on", "or", "that", "the", "this", "to", "was", "what",
    "when", "where", "who", "will", "with", "und", "www",
];

/// MySQL boolean mode: `+word` for every indexed word. Words are letters and
/// digits only, so none can be an operator. Words InnoDB does not index (shorter
/// than 3 characters, stopwords) cannot be required: they are left out.
/// `None` when no word is left.
fn mysql_query(words: &[String]) -> Option<String> {
    let terms: Vec<String> = words
        .iter()
        .filter(|w| {
            w.chars().count() >= 3 && !INNODB_STOPWORDS.contains(&w.to_lowercase().as_str())
        })
        .map(|w| format!("+{w}"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// A window of the text around the first match, every matching word marked
/// (for backends without a snippet function).
pub fn snippet(text: &str, words: &[String]) -> String {
    let wanted: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let matches = |token: &str| {
        let bare: String = token
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_lowercase();
        !bare.is_empty() && wanted.contains(&bare)
    };
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let first = tokens.iter().position(|t| matches(t)).unwrap_or(0);
    let start = first.saturating_sub(SNIPPET_WORDS / 4);
    let end = (start + SNIPPET_WORDS).min(tokens.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    for (i, token) in tokens[start..end].iter().enumerate() {
        if i > 0 || start > 0 {
            out.push(' ');
        }
        if matches(token) {
            out.push_str(OPEN);
            out.push_str(token);
            out.push_str(CLOSE);
        } else {
            out.push_str(token);
        }
    }
    if end < tokens.len() {
        out.push_str(" …");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn mysql_words_are_required_and_never_operators() {
        assert_eq!(
            mysql_query(&words(&["Rust", "and", "web"])),
            Some("+Rust +and +web".into())
        );
        assert_eq!(mysql_query(&words(&["the", "of", "x"])), None);
    }

    #[test]
    fn snippets_mark_matches_around_the_first_one() {
        let text = (1..=60)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let s = snippet(&format!("{text} Rust, again rust."), &words(&["rust"]));
        assert!(s.starts_with('…'));
        assert!(s.contains(&format!("{OPEN}Rust,{CLOSE}")));
        assert!(s.contains(&format!("{OPEN}rust.{CLOSE}")));
        assert_eq!(snippet("short text", &words(&["none"])), "short text");
    }
}
