//! Account pages: signup with email confirmation, login, logout, password reset,
//! and the profile (name, bio, avatar, password, address).

use rocket::http::Status;
use rocket::Route;
use rocket_dyn_templates::Template;

use crate::config::Settings;
use crate::site::rate_limits::Limit;
use crate::web::csrf::CsrfToken;
use crate::web::forms::FieldErrors;
use crate::web::{Site, View};

mod login;
mod profile;
mod reset;
mod signup;

pub use login::UserAgent;
pub use signup::send_confirmation;

pub fn routes() -> Vec<Route> {
    [
        login::routes(),
        signup::routes(),
        reset::routes(),
        profile::routes(),
    ]
    .concat()
}

/// A page with a form, its errors and what was typed.
fn form_view(
    name: &'static str,
    csrf: &CsrfToken,
    errors: &FieldErrors,
    values: serde_json::Value,
) -> View {
    View::new(name)
        .with("csrf_token", &csrf.0)
        .with("errors", errors)
        .with("values", values)
}

/// A re-rendered form: 200 when it is only shown, 422 when it comes back with errors.
fn respond(view: View, site: &Site<'_>, errors: &FieldErrors) -> (Status, Template) {
    let status = if errors.is_empty() {
        Status::Ok
    } else {
        Status::UnprocessableEntity
    };
    (status, view.render(site))
}

fn notice(site: &Site<'_>, heading: &str, message: &str) -> Template {
    View::new("accounts/notice.html")
        .title(heading)
        .with("heading", heading)
        .with("message", message)
        .render(site)
}

/// A local path to go to after login; anything else (other sites,
/// `//host`, `/\host`, schemes) falls back to the home page. Characters a URL
/// cannot hold as they are (`/é`, a space, a quote) are percent-encoded, so
/// the redirect is always a valid `Location`.
pub fn safe_next(next: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    const NOT_IN_URL: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'<')
        .add(b'>')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'|')
        .add(b'^');
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && next.len() <= 2000;
    if !local {
        return "/".to_owned();
    }
    let encoded = utf8_percent_encode(next, NOT_IN_URL).to_string();
    match rocket::http::uri::Reference::parse(&encoded) {
        Ok(r) if r.scheme().is_none() && r.authority().is_none() => encoded,
        _ => "/".to_owned(),
    }
}

fn link(settings: &Settings, path: &str) -> String {
    format!("{}{path}", settings.site_url)
}

fn limit(bucket: &'static str, max: u32, window: i64) -> Limit {
    Limit {
        bucket,
        max,
        window,
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_local_and_is_always_a_valid_location() {
        assert_eq!(safe_next("/admin/posts?page=2"), "/admin/posts?page=2");
        assert_eq!(safe_next("/é"), "/%C3%A9");
        assert_eq!(safe_next("/a b\"c"), "/a%20b%22c");
        assert_eq!(safe_next("/posts/x#comments"), "/posts/x#comments");
        for outside in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "admin",
            "",
            "/\n",
        ] {
            assert_eq!(safe_next(outside), "/", "{outside:?}");
        }
        for hostile in ["/%", "/[x]", "/a?b=%zz", "/ünïcödé?q=ü"] {
            let out = safe_next(hostile);
            assert!(
                rocket::http::uri::Reference::parse(&out).is_ok(),
                "{hostile:?} → {out:?}"
            );
        }
    }
}
