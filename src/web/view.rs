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
use crate::site_settings;
use crate::users::guards::Visitor;
use rocket::request::FlashMessage;

/// What every page needs to know about the site and the current request.
pub struct Site<'r> {
    /// The settings in force: `Rocket.toml` with the admin's overrides.
    pub settings: Settings,
    /// The request's URI path, for active navigation links.
    pub path: &'r str,
    /// The absolute URL of this page, for `<link rel="canonical">`.
    pub canonical: String,
    /// Pages linked from the site navigation.
    pub nav: Vec<NavLink>,
    /// The logged-in user, if any.
    pub visitor: Visitor,
    /// A message left by the previous request (POST/redirect/GET).
    pub flash: Option<(String, String)>,
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
        let base = settings.clone();
        let loaded = match req.rocket().state::<Db>() {
            Some(db) => db
                .run(move |c| {
                    Ok((
                        site_settings::effective(c, &base)?,
                        blog::store::nav_pages(c)?,
                    ))
                })
                .await
                .map_err(|e| log::error!("site settings and navigation: {e}"))
                .ok(),
            None => None,
        };
        let (settings, nav) = loaded.unwrap_or_else(|| (settings.clone(), Vec::new()));
        let visitor = match req.guard::<Visitor>().await {
            Outcome::Success(v) => v,
            _ => Visitor(None),
        };
        let flash = match req.guard::<Option<FlashMessage<'_>>>().await {
            Outcome::Success(Some(f)) => Some((f.kind().to_string(), f.message().to_string())),
            _ => None,
        };
        Outcome::Success(Site {
            canonical: canonical(&settings, req),
            path: req.uri().path().as_str(),
            settings,
            nav,
            visitor,
            flash,
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
        if let Some(session) = &site.visitor.0 {
            self.ctx.insert(
                "user".into(),
                serde_json::json!({
                    "username": session.user.username,
                    "display_name": session.user.shown_name(),
                    "role": session.user.role,
                }),
            );
            self.ctx
                .entry("csrf_token")
                .or_insert_with(|| Value::String(session.csrf_token.clone()));
        }
        if let Some((kind, message)) = &site.flash {
            self.ctx.insert(
                "flash".into(),
                serde_json::json!({"kind": kind, "message": message}),
            );
        }
        Template::render(self.name, Value::Object(self.ctx))
    }
}
