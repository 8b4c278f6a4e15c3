//! Styled error pages: every 4xx/5xx a visitor can meet, never a stack trace.

use rocket::http::Status;
use rocket::response::{self, Responder};
use rocket::{Catcher, Request};
use rocket_dyn_templates::Template;

use crate::config::Settings;

/// A sentence for each status a visitor can meet.
fn explain(status: Status) -> &'static str {
    match status.code {
        400 => "The request could not be understood.",
        403 => "You are not allowed to do that.",
        404 => "There is nothing at this address. It may have moved, or never existed.",
        405 => "This address does not accept that kind of request.",
        413 => "What you sent is larger than this site accepts.",
        415 => "This type of file is not accepted.",
        422 => "What you sent could not be processed.",
        429 => "Too many requests from you in a short time. Please wait a moment and try again.",
        503 => "The site is temporarily unavailable. Please try again shortly.",
        c if c >= 500 => {
            "Something went wrong on our side. It has been logged; please try again later."
        }
        _ => "The request could not be completed.",
    }
}

/// An error page with its status and a message for the visitor.
pub struct ErrorPage {
    status: Status,
    template: Template,
}

impl<'r> Responder<'r, 'static> for ErrorPage {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut res = self.template.respond_to(req)?;
        res.set_status(self.status);
        Ok(res)
    }
}

pub fn page(req: &Request<'_>, status: Status, message: &str) -> ErrorPage {
    let site = req
        .rocket()
        .state::<Settings>()
        .map(super::view::site_context)
        .unwrap_or_else(
            || serde_json::json!({"title": "Carnet", "description": "", "lang": "en", "url": ""}),
        );
    let template = Template::render(
        "errors/error.html",
        serde_json::json!({
            "site": site,
            "status": status.code,
            "reason": status.reason().unwrap_or("Error"),
            "message": message,
            "page_title": format!("{} {}", status.code, status.reason().unwrap_or("Error")),
        }),
    );
    ErrorPage { status, template }
}

#[rocket::catch(default)]
fn default_catcher(status: Status, req: &Request<'_>) -> ErrorPage {
    page(req, status, explain(status))
}

/// Anonymous visitors on a protected page go to the login page, then back.
#[rocket::catch(401)]
fn login_required(req: &Request<'_>) -> response::Redirect {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    // Keep the path readable; encode what would end or split a query value.
    const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let target = req.uri().to_string();
    let next = utf8_percent_encode(&target, QUERY_VALUE).to_string();
    response::Redirect::to(format!("/accounts/login?next={next}"))
}

pub fn catchers() -> Vec<Catcher> {
    rocket::catchers![default_catcher, login_required]
}
