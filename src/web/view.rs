//! `View`: a template name plus its context, rendered with the parts every page
//! shares (site title, canonical URL, navigation) filled in from the `Site` guard.

use rocket::request::{FromRequest, Outcome, Request};
use rocket::State;
use rocket_dyn_templates::Template;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::Settings;
use crate::db::{Conn, Db};
use crate::web::cache::{CacheKey, Cached, Freshness, OnServe, PageCache};
use crate::web::identity::{self, Viewer};
use rocket::request::FlashMessage;

/// A link in the site navigation.
#[derive(Debug, Clone, Serialize)]
pub struct NavLink {
    pub title: String,
    pub url: String,
}

/// What the domains tell every page, given once at start-up (`lib.rs`), so
/// the web layer never calls up into them: the settings in force (the file's,
/// with the admin's overrides) and the navigation links.
#[derive(Clone, Copy)]
pub struct Chrome(pub ChromeFn);

/// Reads the settings in force and the navigation, given the file's settings.
pub type ChromeFn = fn(&mut Conn, &Settings) -> crate::error::Result<(Settings, Vec<NavLink>)>;

/// What every page needs to know about the site and the current request.
pub struct Site<'r> {
    /// The settings in force: `Rocket.toml` with the admin's overrides.
    pub settings: Settings,
    /// The absolute URL of this page, for `<link rel="canonical">`.
    pub canonical: String,
    /// Pages linked from the site navigation.
    pub nav: Vec<NavLink>,
    /// The logged-in user, if any.
    pub visitor: Option<Viewer>,
    /// A message left by the previous request (POST/redirect/GET).
    pub flash: Option<(String, String)>,
    /// The content version and next scheduled publication, for the page cache.
    pub fresh: Freshness,
    pub cache: Option<&'r PageCache>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Site<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let settings = match req.guard::<&State<Settings>>().await {
            Outcome::Success(s) => s.inner(),
            Outcome::Error(e) => return Outcome::Error((e.0, ())),
            Outcome::Forward(s) => return Outcome::Forward(s),
        };
        let cache = req.rocket().state::<PageCache>();
        let (settings, nav, fresh) = match req.rocket().state::<Db>() {
            Some(db) => match load(db, cache, req.rocket().state::<Chrome>(), settings).await {
                Ok(loaded) => loaded,
                Err(e) => {
                    log::error!("site settings and navigation: {e}");
                    (
                        settings.clone(),
                        Vec::new(),
                        Freshness {
                            version: 0,
                            next_publish: None,
                        },
                    )
                }
            },
            None => (
                settings.clone(),
                Vec::new(),
                Freshness {
                    version: 0,
                    next_publish: None,
                },
            ),
        };
        let visitor = identity::viewer(req).await;
        let flash = match req.guard::<Option<FlashMessage<'_>>>().await {
            Outcome::Success(Some(f)) => Some((f.kind().to_owned(), f.message().to_owned())),
            _ => None,
        };
        Outcome::Success(Site {
            fresh,
            cache,
            canonical: canonical(&settings, req),
            settings,
            nav,
            visitor,
            flash,
        })
    }
}

/// Settings (with the admin's overrides) and navigation: from memory while the
/// content version is unchanged, from the database otherwise.
async fn load(
    db: &Db,
    cache: Option<&PageCache>,
    chrome: Option<&Chrome>,
    base: &Settings,
) -> crate::error::Result<(Settings, Vec<NavLink>, Freshness)> {
    let (Some(cache), Some(&Chrome(chrome))) = (cache, chrome) else {
        // Nothing to read them with (a bare Rocket): the file's settings.
        let fresh = Freshness {
            version: 0,
            next_publish: None,
        };
        return Ok((base.clone(), Vec::new(), fresh));
    };
    let fresh = cache.freshness(db).await?;
    if let Some((settings, nav)) = cache.site(fresh.version) {
        return Ok((settings, nav, fresh));
    }
    let base = base.clone();
    let (settings, nav) = db.run(move |c| chrome(c, &base)).await?;
    cache.set_site(fresh.version, settings.clone(), nav.clone());
    Ok((settings, nav, fresh))
}

/// `site_url` + path, keeping only the `page` query parameter (beyond page 1).
fn canonical(settings: &Settings, req: &Request<'_>) -> String {
    let mut url = format!("{}{}", settings.site_url, req.uri().path());
    if let Some(page) = req.query_value::<u32>("page").and_then(Result::ok) {
        if page > 1 {
            url.push_str(&format!("?page={page}"));
        }
    }
    url
}

/// The `site` object of every template context.
pub fn site_context(settings: &Settings) -> Value {
    serde_json::json!({
        "title": settings.site_title,
        "description": settings.site_description,
        "url": settings.site_url,
        "lang": settings.site_lang,
    })
}

/// A page to render: template name and context.
pub struct View {
    name: &'static str,
    ctx: Map<String, Value>,
    on_serve: Option<OnServe>,
}

impl View {
    pub fn new(name: &'static str) -> Self {
        View {
            name,
            ctx: Map::new(),
            on_serve: None,
        }
    }

    /// Runs `f` on the visitor's cookies whenever the page is served from the
    /// cache (the route runs its own code when it renders it).
    pub fn on_serve(mut self, f: OnServe) -> Self {
        self.on_serve = Some(f);
        self
    }

    /// Adds a value to the context.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or_else(|e| {
            log::error!("template value {key} failed to serialize: {e}");
            Value::Null
        });
        self.ctx.insert(key.to_owned(), value);
        self
    }

    pub fn title(self, title: impl Into<String>) -> Self {
        self.with("page_title", title.into())
    }

    /// Renders with the shared parts of the context.
    pub fn render(self, site: &Site<'_>) -> Template {
        let (name, ctx) = self.finish(site);
        Template::render(name, ctx)
    }

    /// Like `render`, storing the result in the page cache when `key` allows it.
    /// `csrf` is the visitor's token when the page has a form: a cached page
    /// holds a placeholder in its place.
    pub fn page(self, site: &Site<'_>, key: &CacheKey, csrf: Option<&str>) -> PageResponse {
        let on_serve = self.on_serve;
        let (name, ctx) = self.finish(site);
        PageResponse::Render {
            name,
            ctx,
            on_serve,
            store: key
                .0
                .clone()
                // Version 0 means the database could not say: store nothing then.
                .filter(|_| site.cache.is_some() && site.fresh.version > 0)
                .map(|k| (k, site.fresh)),
            csrf: csrf.map(str::to_owned),
        }
    }

    fn finish(mut self, site: &Site<'_>) -> (&'static str, Value) {
        self.ctx.insert("site".into(), site_context(&site.settings));
        self.ctx
            .entry("nav_pages")
            .or_insert_with(|| serde_json::to_value(&site.nav).unwrap_or_default());
        self.ctx
            .entry("canonical")
            .or_insert_with(|| Value::String(site.canonical.clone()));
        self.ctx.insert(
            "registration_open".into(),
            Value::Bool(site.settings.registration == crate::config::Registration::Open),
        );
        if let Some(viewer) = &site.visitor {
            self.ctx.insert(
                "user".into(),
                serde_json::json!({
                    "username": viewer.username,
                    "display_name": viewer.display_name,
                    "role": viewer.role,
                }),
            );
            self.ctx
                .entry("csrf_token")
                .or_insert_with(|| Value::String(viewer.csrf_token.clone()));
        }
        if let Some((kind, message)) = &site.flash {
            self.ctx.insert(
                "flash".into(),
                serde_json::json!({"kind": kind, "message": message}),
            );
        }
        (self.name, Value::Object(self.ctx))
    }
}

impl Site<'_> {
    /// A document built by a handler (feed, sitemap), stored in the cache when `key` allows it.
    pub fn document(&self, key: &CacheKey, doc: Cached) -> PageResponse {
        if let (Some(cache), Some(k)) = (self.cache, key.0.clone()) {
            cache.put(k, self.fresh, doc.clone());
        }
        PageResponse::Hit(doc, None)
    }

    /// The cached page for this request, if there is a fresh one.
    pub fn cached(&self, key: &CacheKey, csrf: Option<&str>) -> Option<PageResponse> {
        let (cache, key) = (self.cache?, key.0.as_ref()?);
        let hit = cache.get(key, self.fresh, crate::ground::dates::now())?;
        Some(PageResponse::Hit(hit, csrf.map(str::to_owned)))
    }
}

/// A page from the cache, or to render (and perhaps store).
pub enum PageResponse {
    Hit(Cached, Option<String>),
    Render {
        name: &'static str,
        ctx: Value,
        store: Option<(String, Freshness)>,
        csrf: Option<String>,
        on_serve: Option<OnServe>,
    },
}

impl<'r> rocket::response::Responder<'r, 'static> for PageResponse {
    fn respond_to(self, req: &'r Request<'_>) -> rocket::response::Result<'static> {
        let (page, csrf) = match self {
            PageResponse::Hit(hit, csrf) => (hit, csrf),
            PageResponse::Render {
                name,
                mut ctx,
                store,
                csrf,
                on_serve,
            } => {
                if store.is_some() {
                    if let Some(map) = ctx.as_object_mut() {
                        replace_token(map, csrf.as_deref());
                    }
                }
                let html = Template::show(req.rocket(), name, ctx)
                    .ok_or(rocket::http::Status::InternalServerError)?;
                let mut page = Cached::new(html, rocket::http::ContentType::HTML, None);
                page.on_serve = on_serve;
                match (store, req.rocket().state::<PageCache>()) {
                    (Some((key, fresh)), Some(cache)) => {
                        cache.put(key, fresh, page.clone());
                        (page, csrf)
                    }
                    // Rendered with the real token: nothing to put in.
                    _ => (page, None),
                }
            }
        };
        let mut res = rocket::Response::build();
        res.header(page.content_type.clone());
        match csrf.filter(|_| page.has_token) {
            Some(token) => {
                let token: std::sync::Arc<[u8]> = std::sync::Arc::from(token.as_bytes());
                let etag = crate::ground::tokens::short_digest(&[page.etag.as_bytes(), &token]);
                res.header(rocket::http::Header::new("ETag", format!("\"{etag}\"")));
                let mut parts = Vec::with_capacity(2 * page.pieces.len());
                for (i, piece) in page.pieces.iter().enumerate() {
                    if i > 0 {
                        parts.push(token.clone());
                    }
                    parts.push(piece.clone());
                }
                let body = crate::web::body::Segments::new(parts);
                res.sized_body(body.size(), body);
            }
            None => {
                let accepts_gzip =
                    crate::web::headers::accepts_gzip(req.headers().get_one("Accept-Encoding"));
                res.header(rocket::http::Header::new("Vary", "Accept-Encoding"));
                match page.gzip.as_ref().filter(|_| accepts_gzip) {
                    Some(gz) => {
                        res.header(rocket::http::Header::new("Content-Encoding", "gzip"));
                        res.header(rocket::http::Header::new(
                            "ETag",
                            format!("\"{}-gz\"", page.etag),
                        ));
                        res.sized_body(gz.len(), std::io::Cursor::new(gz.clone()));
                    }
                    None => {
                        res.header(rocket::http::Header::new(
                            "ETag",
                            format!("\"{}\"", page.etag),
                        ));
                        res.sized_body(page.body.len(), std::io::Cursor::new(page.body.clone()));
                    }
                }
            }
        }
        if let Some(ts) = page.last_modified {
            res.header(rocket::http::Header::new(
                "Last-Modified",
                crate::ground::dates::http_date(ts),
            ));
        }
        res.ok()
    }
}

/// Puts the placeholder where the visitor's token would go before a page is stored.
fn replace_token(map: &mut Map<String, Value>, token: Option<&str>) {
    let Some(token) = token else { return };
    for value in map.values_mut() {
        match value {
            Value::String(s) if s == token => *s = crate::web::cache::TOKEN_PLACEHOLDER.clone(),
            Value::Object(inner) => replace_token(inner, Some(token)),
            _ => {}
        }
    }
}
