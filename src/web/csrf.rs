//! CSRF protection, one mechanism for every form. The token is the session's
//! (logged-in users) or a random value in a private cookie (visitors); it is
//! rendered into every form as `csrf_token`, or sent by scripts as the
//! `X-CSRF-Token` header. `CsrfForm<T>` parses a form and refuses it with 403
//! unless the token matches.

use rocket::data::{self, Data, FromData};
use rocket::form::{self, DataField, Form, FromForm, ValueField};
use rocket::http::{Cookie, SameSite, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use subtle::ConstantTimeEq;

use crate::ground::tokens::random_token;

const COOKIE: &str = "carnet_csrf";
pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "X-CSRF-Token";

/// The CSRF token to put in the forms of this page (created if needed).
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

async fn expected(req: &Request<'_>) -> Option<String> {
    if let Some(viewer) = crate::web::identity::viewer(req).await {
        return Some(viewer.csrf_token);
    }
    req.cookies()
        .get_private(COOKIE)
        .map(|c| c.value().to_owned())
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfToken {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let token = match expected(req).await {
            Some(token) => token,
            None => {
                let token = random_token();
                let secure = req
                    .rocket()
                    .state::<crate::config::Settings>()
                    .is_some_and(|s| s.https());
                req.cookies().add_private(
                    Cookie::build((COOKIE, token.clone()))
                        .http_only(true)
                        .same_site(SameSite::Lax)
                        .secure(secure)
                        .path("/"),
                );
                token
            }
        };
        Outcome::Success(CsrfToken(token))
    }
}

/// Drops the visitor token (at login and logout, so a token seen before is void).
pub fn rotate(req_cookies: &rocket::http::CookieJar<'_>) {
    req_cookies.remove_private(Cookie::build(COOKIE).path("/"));
}

fn matches(sent: Option<&str>, expected: Option<&str>) -> bool {
    match (sent, expected) {
        (Some(sent), Some(expected)) if !expected.is_empty() => {
            bool::from(sent.as_bytes().ct_eq(expected.as_bytes()))
        }
        _ => false,
    }
}

/// A form's fields plus its `csrf_token`. The inner form's own errors are kept
/// for later so that a missing token is a 403 whatever else is wrong.
pub struct WithToken<'r, T: FromForm<'r>> {
    token: Option<String>,
    inner: form::Result<'r, T>,
}

pub struct WithTokenContext<'r, T: FromForm<'r>> {
    token: Option<String>,
    inner: T::Context,
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r>> FromForm<'r> for WithToken<'r, T> {
    type Context = WithTokenContext<'r, T>;

    fn init(opts: form::Options) -> Self::Context {
        WithTokenContext {
            token: None,
            inner: T::init(opts),
        }
    }

    fn push_value(ctxt: &mut Self::Context, field: ValueField<'r>) {
        if field.name.source() == FIELD {
            ctxt.token = Some(field.value.to_owned());
        } else {
            T::push_value(&mut ctxt.inner, field);
        }
    }

    async fn push_data(ctxt: &mut Self::Context, field: DataField<'r, '_>) {
        T::push_data(&mut ctxt.inner, field).await;
    }

    fn push_error(ctxt: &mut Self::Context, error: form::Error<'r>) {
        T::push_error(&mut ctxt.inner, error);
    }

    fn finalize(ctxt: Self::Context) -> form::Result<'r, Self> {
        Ok(WithToken {
            token: ctxt.token,
            inner: T::finalize(ctxt.inner),
        })
    }
}

/// A form that passed the CSRF check.
pub struct CsrfForm<T>(pub T);

impl<T> CsrfForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + 'r> FromData<'r> for CsrfForm<T> {
    type Error = form::Errors<'r>;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let expected = expected(req).await;
        let form = match Form::<WithToken<'r, T>>::from_data(req, data).await {
            Outcome::Success(form) => form.into_inner(),
            Outcome::Error(e) => return Outcome::Error(e),
            Outcome::Forward(f) => return Outcome::Forward(f),
        };
        let sent = form
            .token
            .as_deref()
            .or_else(|| req.headers().get_one(HEADER));
        if !matches(sent, expected.as_deref()) {
            return Outcome::Error((Status::Forbidden, form::Errors::new()));
        }
        match form.inner {
            Ok(inner) => Outcome::Success(CsrfForm(inner)),
            Err(errors) => Outcome::Error((errors.status(), errors)),
        }
    }
}

/// The fields of a form that carries nothing but its CSRF token (logout, a
/// moderation button): use `CsrfForm<NoFields>`. Anything else sent is ignored.
pub struct NoFields;

#[rocket::async_trait]
impl<'r> FromForm<'r> for NoFields {
    type Context = ();

    fn init(_opts: form::Options) -> Self::Context {}

    fn push_value(_ctxt: &mut Self::Context, _field: ValueField<'r>) {}

    async fn push_data(_ctxt: &mut Self::Context, _field: DataField<'r, '_>) {}

    fn finalize(_ctxt: Self::Context) -> form::Result<'r, Self> {
        Ok(NoFields)
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn token_comparison() {
        assert!(matches(Some("abc"), Some("abc")));
        assert!(!matches(Some("abd"), Some("abc")));
        assert!(!matches(None, Some("abc")));
        assert!(!matches(Some(""), Some("")));
        assert!(!matches(Some("abc"), None));
    }
}
