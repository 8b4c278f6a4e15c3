//! Static assets embedded in the binary, served at fingerprinted URLs
//! (`/static/style.3f2a9c1b0d.css`) that can be cached forever.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::LazyLock;

use rocket::http::{ContentType, Header, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// Logical name ("style.css") → fingerprinted name ("style.<hash>.css").
static FINGERPRINTS: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    Assets::iter()
        .filter_map(|name| {
            let file = Assets::get(&name)?;
            Some((
                name.to_string(),
                fingerprinted(&name, &hex10(&file.metadata.sha256_hash())),
            ))
        })
        .collect()
});

fn hex10(hash: &[u8]) -> String {
    hash.iter().take(5).map(|b| format!("{b:02x}")).collect()
}

fn fingerprinted(name: &str, hash: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{name}.{hash}"),
    }
}

/// The public URL of an embedded asset; unknown names are returned unversioned.
pub fn url(name: &str) -> String {
    match FINGERPRINTS.get(name) {
        Some(f) => format!("/static/{f}"),
        None => format!("/static/{name}"),
    }
}

/// Splits "style.<hash>.css" into ("style.css", Some(hash)).
fn logical(requested: &str) -> (String, Option<String>) {
    let parts: Vec<&str> = requested.rsplitn(3, '.').collect();
    if let [ext, hash, stem] = parts[..] {
        if hash.len() == 10 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return (format!("{stem}.{ext}"), Some(hash.to_owned()));
        }
    }
    (requested.to_owned(), None)
}

/// Text assets gzipped once, at first use (CSS, JavaScript, SVG).
static GZIPPED: LazyLock<HashMap<String, std::sync::Arc<[u8]>>> = LazyLock::new(|| {
    Assets::iter()
        .filter(|name| {
            [".css", ".js", ".svg", ".txt"]
                .iter()
                .any(|ext| name.ends_with(ext))
        })
        .filter_map(|name| {
            let file = Assets::get(&name)?;
            Some((name.to_string(), super::cache::gzip(&file.data)?))
        })
        .collect()
});

/// The request's `If-None-Match`, if any, and whether it accepts gzip.
pub struct IfNoneMatch(pub Option<String>, pub bool);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for IfNoneMatch {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let gzip = super::headers::accepts_gzip(req.headers().get_one("Accept-Encoding"));
        Outcome::Success(IfNoneMatch(
            req.headers().get_one("If-None-Match").map(str::to_owned),
            gzip,
        ))
    }
}

pub struct Asset {
    body: Option<std::sync::Arc<[u8]>>,
    content_type: ContentType,
    etag: String,
    immutable: bool,
    gzipped: bool,
}

impl<'r> Responder<'r, 'static> for Asset {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let cache = if self.immutable {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=0, must-revalidate"
        };
        let mut res = Response::build();
        res.header(Header::new("Cache-Control", cache))
            .header(Header::new("ETag", self.etag))
            .header(Header::new("Vary", "Accept-Encoding"));
        if self.gzipped {
            res.header(Header::new("Content-Encoding", "gzip"));
        }
        match self.body {
            Some(body) => res
                .header(self.content_type)
                .sized_body(body.len(), Cursor::new(body)),
            None => res.status(Status::NotModified),
        };
        res.ok()
    }
}

#[rocket::get("/static/<path..>")]
pub fn serve(path: PathBuf, inm: IfNoneMatch) -> Option<Asset> {
    // `PathBuf` segments already refuse `..`; the lookup is in the embedded set only.
    let requested = path.to_str()?.replace('\\', "/");
    let (name, hash) = logical(&requested);
    let (name, file) = match Assets::get(&name) {
        Some(file) => (name, file),
        None => (requested.clone(), Assets::get(&requested)?),
    };
    let current = hex10(&file.metadata.sha256_hash());
    let gz = GZIPPED.get(&name).filter(|_| inm.1).cloned();
    let etag = if gz.is_some() {
        format!("\"{current}-gz\"")
    } else {
        format!("\"{current}\"")
    };
    let content_type = name
        .rsplit_once('.')
        .and_then(|(_, ext)| ContentType::from_extension(ext))
        .unwrap_or(ContentType::Binary);
    let fresh = inm
        .0
        .as_deref()
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    Some(Asset {
        gzipped: gz.is_some() && !fresh,
        body: (!fresh).then(|| gz.unwrap_or_else(|| file.data.into_owned().into())),
        content_type,
        etag,
        immutable: hash.as_deref() == Some(current.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_round_trip() {
        let u = url("style.css");
        assert!(
            u.starts_with("/static/style.") && u.ends_with(".css"),
            "{u}"
        );
        let (name, hash) = logical(u.trim_start_matches("/static/"));
        assert_eq!(name, "style.css");
        assert_eq!(hash.map(|h| h.len()), Some(10));
        assert_eq!(logical("style.css"), ("style.css".to_owned(), None));
    }
}
