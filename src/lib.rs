//! Carnet: a blog engine in one binary. This crate root composes the domain
//! modules into a Rocket application; `main.rs` and the tests share it.

pub mod admin;
pub mod blog;
pub mod cli;
pub mod comments;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod ground;
pub mod mail;
pub mod media;
pub mod site;
pub mod transfer;
pub mod users;
pub mod web;

use rocket::{Build, Rocket};

use crate::config::Loaded;
use crate::db::Db;
use crate::error::Result;

/// Builds the web application from loaded settings and an open, migrated database.
pub fn rocket(loaded: &Loaded, db: Db) -> Result<Rocket<Build>> {
    let templates = web::templates::parse_in_background(loaded.settings.templates_dir());
    rocket_with_templates(loaded, db, templates)
}

/// `rocket`, taking the templates from a parse started earlier
/// (`web::templates::parse_in_background`).
pub fn rocket_with_templates(
    loaded: &Loaded,
    db: Db,
    templates: web::templates::Parsing,
) -> Result<Rocket<Build>> {
    let settings = loaded.settings.clone();
    let figment = loaded.rocket_figment()?;
    // The mail templates are parsed here while the other thread parses the rest.
    let mailer = mail::Mailer::new(settings.clone())?;
    let templates = web::templates::finish(templates)?;
    let dispatcher = dispatcher(&mailer);
    Ok(rocket::custom(figment)
        .attach(site::housekeeping::fairing(db.clone(), settings.clone()))
        .attach(events::dispatch::fairing(db.clone(), dispatcher))
        .attach(mail::stage(db.clone(), mailer))
        .manage(db)
        .attach(web::stage(&settings, templates))
        .attach(blog::stage())
        .attach(comments::stage())
        .attach(users::stage())
        .attach(site::stage())
        .attach(admin::stage())
        .manage(settings))
}

/// The event dispatcher with every domain's subscribers and clocks.
pub fn dispatcher(mailer: &mail::Mailer) -> events::dispatch::Dispatcher {
    events::dispatch::Dispatcher::new(
        comments::notify::subscribers(mailer),
        vec![blog::publish::release_due],
    )
}

/// Opens the database named by the settings for a command. A new database is
/// created and migrated; an existing one with pending migrations is migrated
/// only when `apply_pending` is set (`serve`, `migrate`), refused otherwise.
pub fn open_db(loaded: &Loaded, apply_pending: bool) -> Result<Db> {
    let settings = &loaded.settings;
    db::Location::parse(&settings.database_url)?;
    settings.prepare_dirs()?;
    let db = Db::open(&settings.database_url)?;
    let all = db::migrations::list(&db)?;
    let fresh = all.iter().all(|m| !m.applied);
    let pending = all.iter().filter(|m| !m.applied).count();
    if fresh || apply_pending {
        if pending > 0 {
            db::migrations::apply(&db)?;
        }
    } else if pending > 0 {
        return Err(error::Error::PendingMigrations(pending));
    }
    Ok(db)
}
