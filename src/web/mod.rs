//! The web layer shared by every domain: templates, static assets, security
//! headers, error pages, pagination and the page context every view gets.

pub mod assets;
pub mod body;
pub mod cache;
pub mod client_ip;
pub mod conditional;
pub mod csrf;
pub mod errors;
pub mod forms;
pub mod headers;
pub mod health;
pub mod identity;
pub mod pagination;
pub mod templates;
pub mod view;

pub use pagination::Pagination;

use rocket::fairing::AdHoc;
use rocket::fs::{FileServer, Options};

use crate::config::Settings;

/// The web layer: templates, security headers, conditional GET, whole
/// bodies, the page cache's hit route, static assets, uploaded media,
/// `/healthz` and the error pages. Response fairings run in the order they
/// are attached here.
pub fn stage(settings: &Settings, templates: rocket_dyn_templates::tera::Tera) -> AdHoc {
    let (dir, hsts, media) = (
        settings.templates_dir(),
        settings.https(),
        settings.media_dir.clone(),
    );
    AdHoc::on_ignite("Web", move |rocket| async move {
        rocket
            .attach(templates::fairing(dir, templates))
            .attach(headers::SecurityHeaders { hsts })
            .attach(conditional::ConditionalGet)
            // After every fairing that may replace a body.
            .attach(body::WholeBodies)
            // Our own headers replace Rocket's default Shield.
            .attach(rocket::shield::Shield::new())
            .mount("/", cache::routes())
            .mount("/", rocket::routes![assets::serve, health::healthz])
            // Uploaded files: no directory listing, no dotfiles, no path
            // traversal (FileServer refuses `..` segments).
            .mount("/media", FileServer::new(media, Options::Missing))
            .register("/", errors::catchers())
    })
}
pub use view::{Site, View};
