//! Mail: messages rendered from templates (subject, text and HTML), queued in the
//! database and delivered by a background worker with retries, so sending never
//! blocks a request and a failed mail is kept, never lost.

pub mod queue;
pub mod transport;
pub mod worker;

use std::sync::Arc;

use rocket::fairing::AdHoc;
use rocket::tokio::sync::Notify;
use rocket_dyn_templates::tera::{Context, Tera};
use serde::Serialize;

use crate::config::Settings;
use crate::db::{Conn, Db};
use crate::error::{Error, Result};

/// The mailer as state, and the worker that empties the queue, started with
/// the server.
pub fn stage(db: Db, mailer: Mailer) -> AdHoc {
    AdHoc::on_ignite("Mail", |rocket| async move {
        let worker = (db, mailer.clone());
        rocket
            .manage(mailer)
            .attach(AdHoc::on_liftoff("Mail worker", move |_| {
                let (db, mailer) = worker;
                Box::pin(async move {
                    rocket::tokio::spawn(worker::run(db, mailer));
                })
            }))
    })
}

/// A rendered message to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub to: String,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders and queues mail; cheap to clone, shared as Rocket state.
#[derive(Clone)]
pub struct Mailer {
    settings: Arc<Settings>,
    tera: Arc<Tera>,
    wake: Arc<Notify>,
}

/// Header values come from settings and users: keep them on one line.
fn header_safe(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned()
}

impl Mailer {
    pub fn new(settings: Settings) -> Result<Mailer> {
        let tera =
            crate::web::templates::engine(&settings.templates_dir(), "mail/").map_err(|e| {
                Error::Config(format!(
                    "mail templates: {}",
                    crate::web::templates::describe(&e)
                ))
            })?;
        Ok(Mailer {
            settings: Arc::new(settings),
            tera: Arc::new(tera),
            wake: Arc::new(Notify::new()),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Renders `mail/<name>.subject.txt`, `.txt` and `.html` with `ctx` plus `site`.
    pub fn render(
        &self,
        name: &str,
        to: &str,
        reply_to: Option<&str>,
        ctx: impl Serialize,
    ) -> Result<Message> {
        let mut context =
            Context::from_serialize(ctx).map_err(|e| Error::internal("mail context", e))?;
        context.insert("site", &crate::web::view::site_context(&self.settings));
        let render = |part: &str| {
            self.tera
                .render(&format!("mail/{name}.{part}"), &context)
                .map_err(|e| Error::internal(format!("mail template {name}.{part}"), e))
        };
        Ok(Message {
            to: header_safe(to),
            reply_to: reply_to.map(header_safe),
            subject: header_safe(&render("subject.txt")?),
            text: render("txt")?,
            html: render("html")?,
        })
    }

    /// Renders a message and puts it in the queue (inside the caller's transaction,
    /// if any); the worker is woken once the caller's work is done.
    pub fn queue(
        &self,
        c: &mut Conn,
        name: &str,
        to: &str,
        reply_to: Option<&str>,
        ctx: impl Serialize,
    ) -> Result<i64> {
        let message = self.render(name, to, reply_to, ctx)?;
        let id = queue::insert(c, &message, crate::ground::dates::now())?;
        self.wake.notify_one();
        Ok(id)
    }

    /// Wakes the delivery worker (new mail queued).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn notified(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}
