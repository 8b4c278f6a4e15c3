//! `View`: a template name plus its context, rendered with the parts every page
//! shares (site title, canonical URL, navigation) filled in from the `Site` guard.

use rocket::request::{FromRequest, Outcome, Request};
use rocket::State;
use rocket_dyn_templates::Template;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::blog::{self, model::NavLink};
use crate::config::Settings;
use crate::db::Db;

/// What every page needs to know about the site and the current request.
pub struct Site<'r> {
    pub settings: &'r Settings,
    /// The absolute URL of this page, for `<link rel="canonical">`.
    pub canonical: String,
    /// Pages linked from the site navigation.
    pub nav: Vec<NavLink>,
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
        let nav = match req.rocket().state::<Db>() {
            Some(db) => db.run(blog::store::nav_pages).await.unwrap_or_else(|e| {
                log::error!("navigation pages: {e}");
                Vec::new()
            }),
            None => Vec::new(),
        };
        Outcome::Success(Site {
            settings,
            canonical: canonical(settings, req),
            nav,
        })
    }
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
}

impl View {
    pub fn new(name: &'static str) -> Self {
        View {
            name,
            ctx: Map::new(),
        }
    }

    /// Adds a value to the context.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or_else(|e| {
            log::error!("template value {key} failed to serialize: {e}");
            Value::Null
        });
        self.ctx.insert(key.to_string(), value);
        self
    }

    pub fn title(self, title: impl Into<String>) -> Self {
        self.with("page_title", title.into())
    }

    /// Renders with the shared parts of the context.
    pub fn render(mut self, site: &Site<'_>) -> Template {
        self.ctx.insert("site".into(), site_context(site.settings));
        self.ctx
            .entry("nav_pages")
            .or_insert_with(|| serde_json::to_value(&site.nav).unwrap_or_default());
        self.ctx
            .entry("canonical")
            .or_insert_with(|| Value::String(site.canonical.clone()));
        Template::render(self.name, Value::Object(self.ctx))
    }
}
