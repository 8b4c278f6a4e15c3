//! What Carnet reads from URLs and headers itself: page numbers, the page
//! cache's key, the `next` redirect, search words and their FTS5 query,
//! `Accept-Encoding`. Never a panic; `next` always stays a local, valid URL.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = carnet::web::pagination::requested(Some(text));
    if let Some(key) = carnet::web::cache::normalized_key("/search", Some(text)) {
        assert!(key.len() <= 512);
    }
    let next = carnet::users::routes::safe_next(text);
    assert!(next.starts_with('/') && !next.starts_with("//"), "{next}");
    assert!(rocket::http::uri::Reference::parse(&next).is_ok(), "{next}");
    let words = carnet::blog::search::words(text);
    let _ = carnet::db::search::fts5_query(&words);
    let _ = carnet::db::search::snippet(text, &words);
    let _ = carnet::web::headers::accepts_gzip(Some(text));
});
