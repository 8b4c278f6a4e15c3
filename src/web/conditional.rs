//! Conditional GET for pages, feeds and the sitemap: an `ETag` computed from the
//! response body, and `304 Not Modified` when the client already has it (by
//! `If-None-Match`, or by `If-Modified-Since` matching our `Last-Modified`).

use std::io::Cursor;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Header, Method, Status};
use rocket::{Request, Response};

pub struct ConditionalGet;

/// Text documents we render (files and assets handle their own validators).
fn eligible(res: &Response<'_>) -> bool {
    res.status() == Status::Ok
        && res.content_type().is_some_and(|ct| {
            ct.is_html()
                || ct.is_xml()
                || ct.is_json()
                || ct.is_plain()
                || ct.sub() == "rss+xml"
                || ct.sub() == "atom+xml"
                || ct.sub() == "feed+json"
        })
}

#[rocket::async_trait]
impl Fairing for ConditionalGet {
    fn info(&self) -> Info {
        Info {
            name: "Conditional GET",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        if req.method() != Method::Get || !eligible(res) {
            return;
        }
        // Cached pages come with their tag; others are hashed here.
        let etag = match res.headers().get_one("ETag") {
            Some(tag) => tag.to_owned(),
            None => {
                let Ok(body) = res.body_mut().to_bytes().await else {
                    return;
                };
                let tag = format!("\"{}\"", crate::ground::tokens::short_digest(&[&body]));
                res.set_header(Header::new("ETag", tag.clone()));
                res.set_sized_body(body.len(), Cursor::new(body));
                tag
            }
        };
        let matches_etag = req.headers().get_one("If-None-Match").is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        });
        let matches_date = req.headers().get_one("If-None-Match").is_none()
            && req.headers().get_one("If-Modified-Since").is_some()
            && req.headers().get_one("If-Modified-Since") == res.headers().get_one("Last-Modified");
        if matches_etag || matches_date {
            res.set_status(Status::NotModified);
            res.set_sized_body(0, Cursor::new(Vec::new()));
            res.remove_header("Content-Type");
        }
    }
}
