//! The page cache: rendered bytes of public pages for anonymous visitors, so a
//! read costs a hash lookup instead of several queries and a template render.
//!
//! A cached page is valid while the database's content version (bumped by
//! triggers on every write to what pages show) is unchanged and no scheduled
//! post has reached its time. The version is read again after any write made
//! through this process, and at least once a second (`RECHECK`) for writes made
//! elsewhere (another instance, `carnet import`): a write here shows on the next
//! request, a write elsewhere within a second. Pages for logged-in users, or
//! carrying a flash message, are never cached; the visitor's CSRF token is put
//! into a cached page when it is served, never stored in it.
//!
//! Cached pages are answered by `hit`, a route tried before all others, so a
//! hit costs a hash lookup and no database work at all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rocket::http::ContentType;
use rocket::request::{FromRequest, Outcome, Request};

use crate::config::Settings;
use crate::db::{Conn, Db};
use crate::error::Result;
use crate::web::view::NavLink;

/// Stands for the visitor's CSRF token in a cached page. Random per process, so
/// no post or comment can contain it and pull a visitor's token into a link.
pub static TOKEN_PLACEHOLDER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("__carnet_csrf_{}__", crate::ground::tokens::random_token())
});
/// The most bytes of pages kept; past it the cache starts over.
const MAX_BYTES: usize = 32 * 1024 * 1024;
/// How long the content version read from the database is trusted when this
/// process has written nothing since: the delay before a write made by another
/// process shows.
pub const RECHECK: Duration = Duration::from_secs(1);

/// What the database says about freshness, read once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    pub version: i64,
    /// When the next scheduled post goes public, if one is waiting.
    pub next_publish: Option<i64>,
}

/// Reads the freshness from the database; given by the blog at start-up.
pub type FreshnessFn = fn(&mut Conn, i64) -> Result<Freshness>;

/// A function run on the visitor's cookies when a cached page is served.
pub type OnServe = fn(&rocket::http::CookieJar<'_>);

/// A cached response body, with its entity tag computed once.
#[derive(Clone)]
pub struct Cached {
    pub body: Arc<[u8]>,
    /// For a page with a token: the body cut at each placeholder, to splice the
    /// visitor's token in without copying the page.
    pub pieces: Vec<Arc<[u8]>>,
    pub content_type: ContentType,
    /// For feeds and the sitemap: when their newest item changed.
    pub last_modified: Option<i64>,
    /// Hex digest of the body (without quotes).
    pub etag: String,
    /// Whether the body holds `TOKEN_PLACEHOLDER`.
    pub has_token: bool,
    /// Run each time the page is served from the cache, as the route that
    /// rendered it would have (the comment form's timer, a spam defence).
    pub on_serve: Option<OnServe>,
    /// The body gzipped once, for clients that accept it (pages without a token).
    pub gzip: Option<Arc<[u8]>>,
}

/// Gzip of a body worth compressing (text over 1 KiB).
pub fn gzip(body: &[u8]) -> Option<Arc<[u8]>> {
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

impl Cached {
    /// Bytes this page holds in memory: the body, its token-splice pieces and
    /// its gzip copy.
    fn weight(&self) -> usize {
        self.body.len()
            + self.pieces.iter().map(|p| p.len()).sum::<usize>()
            + self.gzip.as_ref().map_or(0, |g| g.len())
    }

    pub fn new(body: String, content_type: ContentType, last_modified: Option<i64>) -> Cached {
        let has_token = body.contains(TOKEN_PLACEHOLDER.as_str());
        let pieces = if has_token {
            body.split(TOKEN_PLACEHOLDER.as_str())
                .map(|piece| Arc::from(piece.as_bytes()))
                .collect()
        } else {
            Vec::new()
        };
        Cached {
            on_serve: None,
            pieces,
            etag: crate::ground::tokens::short_digest(&[body.as_bytes()]),
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
    entries: HashMap<String, Entry>,
    bytes: usize,
    /// Counts lookups, to know which pages were used least recently.
    tick: u64,
    budget: usize,
}

struct Entry {
    page: Cached,
    used: u64,
    /// Everything this entry holds: key, page, bookkeeping.
    weight: usize,
}

/// Bookkeeping per entry (map slot, `Cached` fields, `Arc` headers), counted
/// against the budget with the bytes.
const ENTRY_OVERHEAD: usize = 256;

impl Pages {
    fn clear(&mut self, fresh: Freshness) {
        self.entries.clear();
        self.bytes = 0;
        self.freshness = Some(fresh);
    }

    /// Drops the least recently used pages until `incoming` more bytes fit in
    /// three quarters of the budget: a flood of new URLs (random searches,
    /// junk query strings) pushes out what nobody reads, never the hot pages.
    fn make_room(&mut self, incoming: usize) {
        if self.bytes + incoming <= self.budget {
            return;
        }
        let target = (self.budget / 4 * 3).saturating_sub(incoming);
        let mut by_age: Vec<(u64, String)> = self
            .entries
            .iter()
            .map(|(key, e)| (e.used, key.clone()))
            .collect();
        by_age.sort_unstable();
        for (_, key) in by_age {
            if self.bytes <= target {
                break;
            }
            if let Some(old) = self.entries.remove(&key) {
                self.bytes = self.bytes.saturating_sub(old.weight);
            }
        }
    }
}

/// Settings and navigation for one content version.
type SiteState = (i64, Settings, Vec<NavLink>);

pub struct PageCache {
    read_freshness: FreshnessFn,
    pages: Mutex<Pages>,
    site: Mutex<Option<SiteState>>,
    checked: Mutex<Option<Checked>>,
    /// One lock per page being rendered, so concurrent misses of one page
    /// render it once (the others wait, then find it cached).
    renders: Mutex<HashMap<String, Arc<rocket::tokio::sync::Mutex<()>>>>,
}

/// Paths whose responses are never put in the page cache.
const NEVER_CACHED: &[&str] = &["/static/", "/media/", "/healthz", "/accounts/", "/admin"];

/// Pages being rendered at once that get a render lock (keys are at most
/// `MAX_KEY` bytes, so the map stays under a few MB).
const MAX_RENDER_LOCKS: usize = 4096;

/// The query parameters any cached page reads; the others are left out of the
/// cache key, so `/sitemap.xml?x=<65,000 × a>` is the sitemap's own entry.
const QUERY_KEYS: &[&str] = &["page", "q", "part", "reply_to", "comment"];
/// Longer keys (a very long search) are served but never cached.
const MAX_KEY: usize = 512;

/// The cache key of a URI: its path and the query parameters pages read, in
/// their order; `None` when that is still longer than `MAX_KEY`.
pub fn normalized_key(path: &str, query: Option<&str>) -> Option<String> {
    let mut key = path.to_owned();
    let mut first = true;
    for pair in query.unwrap_or("").split('&') {
        let name = pair.split('=').next().unwrap_or("");
        if QUERY_KEYS.contains(&name) {
            key.push(if first { '?' } else { '&' });
            key.push_str(pair);
            first = false;
        }
    }
    (key.len() <= MAX_KEY).then_some(key)
}

/// How long a request waits for another one rendering the same page.
const RENDER_WAIT: Duration = Duration::from_secs(5);

/// Kept in the request that renders a missing page until it is answered.
struct Rendering(#[allow(dead_code)] rocket::tokio::sync::OwnedMutexGuard<()>);

/// The freshness last read from the database, when, and this process's write
/// count at that moment.
#[derive(Clone, Copy)]
struct Checked {
    fresh: Freshness,
    at: Instant,
    writes: u64,
}

impl PageCache {
    /// An empty cache whose freshness is read with `freshness`.
    pub fn new(freshness: FreshnessFn) -> Self {
        PageCache {
            read_freshness: freshness,
            pages: Mutex::new(Pages {
                freshness: None,
                entries: HashMap::new(),
                bytes: 0,
                tick: 0,
                budget: MAX_BYTES,
            }),
            site: Mutex::new(None),
            checked: Mutex::new(None),
            renders: Mutex::new(HashMap::new()),
        }
    }
}

impl PageCache {
    /// The render lock of `key`.
    /// `None` when too many pages are being rendered at once: the request then
    /// renders without waiting for the others (the map stays bounded).
    fn render_lock(&self, key: &str) -> Option<Arc<rocket::tokio::sync::Mutex<()>>> {
        let mut renders = self.renders.lock().ok()?;
        if renders.len() >= MAX_RENDER_LOCKS {
            renders.retain(|_, lock| Arc::strong_count(lock) > 1);
            if renders.len() >= MAX_RENDER_LOCKS && !renders.contains_key(key) {
                return None;
            }
        }
        Some(renders.entry(key.to_owned()).or_default().clone())
    }

    /// The current freshness: from memory while this process has written
    /// nothing, no scheduled post is due and `RECHECK` has not passed; read
    /// from the database (off the executor) otherwise.
    pub async fn freshness(&self, db: &Db) -> Result<Freshness> {
        let writes = db.writes();
        let now = crate::ground::dates::now();
        let known = self.checked.lock().ok().and_then(|c| *c).filter(|c| {
            c.writes == writes
                && c.at.elapsed() < RECHECK
                && c.fresh.next_publish.is_none_or(|t| t > now)
        });
        if let Some(known) = known {
            return Ok(known.fresh);
        }
        let at = Instant::now();
        // `writes` was read before the query: a write committed meanwhile
        // changes the count, and the next request reads the database again.
        let read = self.read_freshness;
        let fresh = db.run(move |c| read(c, now)).await?;
        if let Ok(mut checked) = self.checked.lock() {
            *checked = Some(Checked { fresh, at, writes });
        }
        Ok(fresh)
    }

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
            pages.clear(fresh);
            return None;
        }
        pages.tick += 1;
        let tick = pages.tick;
        let entry = pages.entries.get_mut(key)?;
        entry.used = tick;
        Some(entry.page.clone())
    }

    pub fn put(&self, key: String, fresh: Freshness, page: Cached) {
        let Ok(mut pages) = self.pages.lock() else {
            return;
        };
        if pages.freshness != Some(fresh) {
            pages.clear(fresh);
        }
        if let Some(old) = pages.entries.remove(&key) {
            pages.bytes = pages.bytes.saturating_sub(old.weight);
        }
        let weight = key.len() + page.weight() + ENTRY_OVERHEAD;
        if weight > pages.budget / 4 {
            return; // one page may not push out most of the others
        }
        pages.make_room(weight);
        pages.bytes += weight;
        pages.tick += 1;
        let used = pages.tick;
        pages.entries.insert(key, Entry { page, used, weight });
    }
}

/// A visitor's own comments awaiting moderation (a private cookie scoped to
/// the post's path): the page that shows them is theirs alone.
pub const PENDING_COOKIE: &str = "carnet_pending";

/// Cookies that make a page personal: never served from or stored in the cache.
const PERSONAL_COOKIES: &[&str] = &[
    crate::web::identity::SESSION_COOKIE,
    "_flash",
    PENDING_COOKIE,
];

/// The cache key of a request that may be served from (and stored in) the cache:
/// a GET from a visitor without a session and without a pending flash message.
pub struct CacheKey(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CacheKey {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let cookies = req.cookies();
        let personal = PERSONAL_COOKIES
            .iter()
            .any(|name| cookies.get(name).is_some());
        let uri = req.uri();
        let key = (req.method() == rocket::http::Method::Get && !personal)
            .then(|| normalized_key(uri.path().as_str(), uri.query().map(|q| q.as_str())))
            .flatten();
        Outcome::Success(CacheKey(key))
    }
}

/// A fresh cached copy of this request's page.
pub struct Hit(pub Cached, pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Hit {
    type Error = ();

    /// Forwards (to the real route) unless the page is cached and fresh.
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let miss = Outcome::Forward(rocket::http::Status::NotFound);
        let (Some(cache), Some(db)) = (
            req.rocket().state::<PageCache>(),
            req.rocket().state::<Db>(),
        ) else {
            return miss;
        };
        let Outcome::Success(CacheKey(Some(key))) = req.guard::<CacheKey>().await else {
            return miss;
        };
        // Never cached: files, the health check, account and admin pages. No
        // need to ask the database, nor to wait for one another.
        if NEVER_CACHED.iter().any(|prefix| key.starts_with(prefix)) {
            return miss;
        }
        let lookup = || async {
            let fresh = cache.freshness(db).await.ok()?;
            cache.get(&key, fresh, crate::ground::dates::now())
        };
        let page = match lookup().await {
            Some(page) => page,
            None => {
                // The first request to miss renders the page (holding the lock
                // until it is answered); the others wait for it, then look again.
                let Some(lock) = cache.render_lock(&key) else {
                    return miss;
                };
                match lock.clone().try_lock_owned() {
                    Ok(guard) => {
                        req.local_cache(|| Rendering(guard));
                        return miss;
                    }
                    Err(_) => {
                        let _ = rocket::tokio::time::timeout(RENDER_WAIT, lock.lock()).await;
                        match lookup().await {
                            Some(page) => page,
                            None => return miss,
                        }
                    }
                }
            }
        };
        if let Some(on_serve) = page.on_serve {
            on_serve(req.cookies());
        }
        let token = if page.has_token {
            match req.guard::<crate::web::csrf::CsrfToken>().await {
                Outcome::Success(t) => Some(t.0),
                _ => return miss,
            }
        } else {
            None
        };
        Outcome::Success(Hit(page, token))
    }
}

/// The route answering an anonymous GET from the cache, ranked before every
/// other route (Rocket's own ranks go down to -12). A handler rather than a
/// route attribute: a miss goes on to the page's own route silently (a
/// forwarding request guard logs a warning each time).
#[derive(Clone)]
struct Hits;

#[rocket::async_trait]
impl rocket::route::Handler for Hits {
    async fn handle<'r>(
        &self,
        req: &'r Request<'_>,
        data: rocket::Data<'r>,
    ) -> rocket::route::Outcome<'r> {
        match req.guard::<Hit>().await {
            Outcome::Success(Hit(page, token)) => {
                rocket::route::Outcome::from(req, crate::web::view::PageResponse::Hit(page, token))
            }
            _ => rocket::route::Outcome::forward(data, rocket::http::Status::NotFound),
        }
    }
}

pub fn routes() -> Vec<rocket::Route> {
    vec![rocket::Route::ranked(
        -100,
        rocket::http::Method::Get,
        "/<_..>",
        Hits,
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(bytes: usize) -> Cached {
        Cached::new("x".repeat(bytes), ContentType::HTML, None)
    }

    #[test]
    fn a_flood_of_new_pages_evicts_the_least_recently_used_ones() {
        let cache = PageCache::new(|_, _| {
            Ok(Freshness {
                version: 1,
                next_publish: None,
            })
        });
        if let Ok(mut pages) = cache.pages.lock() {
            pages.budget = 4000;
        }
        let fresh = Freshness {
            version: 1,
            next_publish: None,
        };
        cache.put("/".into(), fresh, page(300));
        for i in 0..20 {
            // The home page is read between every new page.
            assert!(cache.get("/", fresh, 0).is_some(), "home evicted at {i}");
            cache.put(format!("/search?q={i}"), fresh, page(300));
        }
        let pages = cache.pages.lock().unwrap();
        assert!(pages.bytes <= 4000, "{}", pages.bytes);
        assert!(pages.entries.contains_key("/search?q=19"));
        assert!(!pages.entries.contains_key("/search?q=0"));
    }

    #[test]
    fn junk_query_strings_share_the_page_s_key_and_everything_stored_counts() {
        let junk = format!("x={}", "a".repeat(65_000));
        assert_eq!(
            normalized_key("/sitemap.xml", Some(&junk)).as_deref(),
            Some("/sitemap.xml")
        );
        assert_eq!(
            normalized_key("/search", Some("utm=1&q=rust&page=2&fbclid=z")).as_deref(),
            Some("/search?q=rust&page=2")
        );
        let long_search = format!("q={}", "b".repeat(600));
        assert_eq!(normalized_key("/search", Some(&long_search)), None);

        // A compressible page of 64 KiB: its gzip copy counts too.
        let cache = PageCache::new(|_, _| {
            Ok(Freshness {
                version: 1,
                next_publish: None,
            })
        });
        let fresh = Freshness {
            version: 1,
            next_publish: None,
        };
        let body = "<p>hello</p>".repeat(6000);
        let page = Cached::new(body.clone(), ContentType::HTML, None);
        let gz = page.gzip.as_ref().map_or(0, |g| g.len());
        assert!(gz > 0);
        cache.put("/".into(), fresh, page);
        let pages = cache.pages.lock().unwrap();
        assert_eq!(pages.bytes, 1 + body.len() + gz + ENTRY_OVERHEAD);
    }

    #[test]
    fn the_render_lock_map_stays_bounded() {
        let cache = PageCache::new(|_, _| {
            Ok(Freshness {
                version: 1,
                next_publish: None,
            })
        });
        let held: Vec<_> = (0..MAX_RENDER_LOCKS)
            .map(|i| cache.render_lock(&format!("/search?q={i}")).unwrap())
            .collect();
        assert!(cache.render_lock("/search?q=one-more").is_none());
        drop(held);
        assert!(cache.render_lock("/search?q=one-more").is_some());
    }
}
