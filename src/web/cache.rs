//! The page cache: rendered bytes of public pages for anonymous visitors, so a
//! read costs one tiny query instead of several queries and a template render.
//!
//! A cached page is valid while the database's content version (bumped by
//! triggers on every write to what pages show) is unchanged and no scheduled
//! post has reached its time. Every instance reads the version, so none serves a
//! page older than the last write, wherever it happened. Pages for logged-in
//! users, or carrying a flash message, are never cached; the visitor's CSRF token
//! is put into a cached page when it is served, never stored in it.

use std::collections::HashMap;
use std::sync::Mutex;

use rocket::http::ContentType;
use rocket::request::{FromRequest, Outcome, Request};

use crate::blog::model::NavLink;
use crate::config::Settings;
use crate::db::Conn;
use crate::error::Result;
use crate::params;

/// Stands for the visitor's CSRF token in a cached page. Random per process, so
/// no post or comment can contain it and pull a visitor's token into a link.
pub static TOKEN_PLACEHOLDER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("__carnet_csrf_{}__", crate::users::session::random_token())
});
/// The most bytes of pages kept; past it the cache starts over.
const MAX_BYTES: usize = 32 * 1024 * 1024;

/// What the database says about freshness, read once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    pub version: i64,
    /// When the next scheduled post goes public, if one is waiting.
    pub next_publish: Option<i64>,
}

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

/// A cached response body, with its entity tag computed once.
#[derive(Clone)]
pub struct Cached {
    pub body: std::sync::Arc<[u8]>,
    pub content_type: ContentType,
    /// For feeds and the sitemap: when their newest item changed.
    pub last_modified: Option<i64>,
    /// Hex digest of the body (without quotes).
    pub etag: String,
    /// Whether the body holds `TOKEN_PLACEHOLDER`.
    pub has_token: bool,
    /// The body gzipped once, for clients that accept it (pages without a token).
    pub gzip: Option<std::sync::Arc<[u8]>>,
}

/// Gzip of a body worth compressing (text over 1 KiB).
pub fn gzip(body: &[u8]) -> Option<std::sync::Arc<[u8]>> {
    use std::io::Write;
    if body.len() < 1024 {
        return None;
    }
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    encoder.write_all(body).ok()?;
    encoder.finish().ok().map(Into::into)
}

/// A short hex SHA-256 of some bytes, for entity tags.
pub fn digest(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Cached {
    pub fn new(body: String, content_type: ContentType, last_modified: Option<i64>) -> Cached {
        let has_token = body.contains(TOKEN_PLACEHOLDER.as_str());
        Cached {
            etag: digest(&[body.as_bytes()]),
            gzip: if has_token {
                None
            } else {
                gzip(body.as_bytes())
            },
            has_token,
            body: body.into_bytes().into(),
            content_type,
            last_modified,
        }
    }
}

struct Pages {
    freshness: Option<Freshness>,
    entries: HashMap<String, Cached>,
    bytes: usize,
}

/// Settings and navigation for one content version.
type SiteState = (i64, Settings, Vec<NavLink>);

pub struct PageCache {
    pages: Mutex<Pages>,
    site: Mutex<Option<SiteState>>,
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache {
            pages: Mutex::new(Pages {
                freshness: None,
                entries: HashMap::new(),
                bytes: 0,
            }),
            site: Mutex::new(None),
        }
    }
}

impl PageCache {
    /// The settings and navigation of `version`, if known.
    pub fn site(&self, version: i64) -> Option<(Settings, Vec<NavLink>)> {
        let guard = self.site.lock().ok()?;
        guard
            .as_ref()
            .filter(|(v, _, _)| *v == version)
            .map(|(_, s, n)| (s.clone(), n.clone()))
    }

    pub fn set_site(&self, version: i64, settings: Settings, nav: Vec<NavLink>) {
        if let Ok(mut guard) = self.site.lock() {
            *guard = Some((version, settings, nav));
        }
    }

    /// The page for `key` if it is still fresh; stale pages are dropped.
    pub fn get(&self, key: &str, fresh: Freshness, now: i64) -> Option<Cached> {
        let mut pages = self.pages.lock().ok()?;
        let expired =
            pages.freshness != Some(fresh) || fresh.next_publish.is_some_and(|t| t <= now);
        if expired {
            pages.entries.clear();
            pages.bytes = 0;
            pages.freshness = Some(fresh);
            return None;
        }
        pages.entries.get(key).cloned()
    }

    pub fn put(&self, key: String, fresh: Freshness, page: Cached) {
        let Ok(mut pages) = self.pages.lock() else {
            return;
        };
        if pages.freshness != Some(fresh) {
            pages.entries.clear();
            pages.bytes = 0;
            pages.freshness = Some(fresh);
        }
        if pages.bytes + page.body.len() > MAX_BYTES {
            pages.entries.clear();
            pages.bytes = 0;
        }
        pages.bytes += page.body.len();
        if let Some(old) = pages.entries.insert(key, page) {
            pages.bytes = pages.bytes.saturating_sub(old.body.len());
        }
    }
}

/// The cache key of a request that may be served from (and stored in) the cache:
/// a GET from a visitor without a session and without a pending flash message.
pub struct CacheKey(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CacheKey {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let cookies = req.cookies();
        let personal =
            cookies.get(crate::users::session::COOKIE).is_some() || cookies.get("_flash").is_some();
        let key =
            (req.method() == rocket::http::Method::Get && !personal).then(|| req.uri().to_string());
        Outcome::Success(CacheKey(key))
    }
}
