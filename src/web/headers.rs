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

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        // Account and admin pages hold personal data and tokens: no browser or
        // proxy keeps a copy (the back button after logout shows nothing).
        let path = req.uri().path();
        if (path.starts_with("/admin") || path.starts_with("/accounts"))
            && !res.headers().contains("Cache-Control")
        {
            res.set_header(Header::new("Cache-Control", "no-store"));
        }
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

/// Whether an `Accept-Encoding` value accepts gzip (RFC 9110 §12.5.3): a
/// `gzip` (or `x-gzip`) entry with a weight above zero, or else a `*` one.
/// `gzip;q=0` refuses it.
pub fn accepts_gzip(header: Option<&str>) -> bool {
    let Some(header) = header else { return false };
    let mut star = None;
    for entry in header.split(',') {
        let mut parts = entry.split(';');
        let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let weight = parts
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                (k.trim().eq_ignore_ascii_case("q")).then(|| v.trim().parse::<f32>().ok())?
            })
            .next()
            .unwrap_or(1.0);
        match coding.as_str() {
            "gzip" | "x-gzip" => return weight > 0.0,
            "*" => star = Some(weight > 0.0),
            _ => {}
        }
    }
    star.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::accepts_gzip;

    #[test]
    fn gzip_is_sent_only_where_accepted() {
        assert!(accepts_gzip(Some("gzip, deflate, br")));
        assert!(accepts_gzip(Some("br;q=1.0, gzip;q=0.8")));
        assert!(accepts_gzip(Some("*")));
        assert!(accepts_gzip(Some("GZIP")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("gzip; q=0.000, *")));
        assert!(!accepts_gzip(Some("*;q=0")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(!accepts_gzip(Some("gzipped")));
        assert!(!accepts_gzip(None));
    }
}
