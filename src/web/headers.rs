//! Security headers on every response.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Request, Response};

pub struct SecurityHeaders {
    /// Send HSTS too (only when the site is served over https).
    pub hsts: bool,
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "Security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, _req: &'r Request<'_>, res: &mut Response<'r>) {
        let mut set = |name: &'static str, value: &'static str| {
            if !res.headers().contains(name) {
                res.set_header(Header::new(name, value));
            }
        };
        set("Content-Security-Policy", CSP);
        set("X-Content-Type-Options", "nosniff");
        set("X-Frame-Options", "DENY");
        set("Referrer-Policy", "strict-origin-when-cross-origin");
        set(
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        );
        set("Cross-Origin-Opener-Policy", "same-origin");
        if self.hsts {
            set("Strict-Transport-Security", "max-age=31536000");
        }
    }
}
