//! The page cache never shows stale or someone else's content: every write is
//! visible on the very next request, personal pages are never shared, and each
//! visitor gets their own CSRF token in a cached page.

mod common;

use std::time::Duration;

use common::server::{run, text, Browser, Server};
use common::FIXTURE;

const PASSWORD: &str = "correct horse battery";

fn site() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Rocket.toml"),
        "[default]\ncomment_min_seconds = 0\n",
    )
    .unwrap();
    let mut fixture: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    let hash = carnet::users::password::hash(PASSWORD).unwrap();
    for user in fixture["users"].as_array_mut().unwrap() {
        user["password_hash"] = hash.clone().into();
    }
    std::fs::write(dir.path().join("site.json"), fixture.to_string()).unwrap();
    let out = run(dir.path(), &["import", "site.json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = Server::start(dir.path());
    (dir, server)
}

fn login(port: u16, username: &str) -> Browser {
    let b = Browser::new(port);
    let res = b.submit(
        "/accounts/login",
        "/accounts/login",
        &[("username", username), ("password", PASSWORD)],
    );
    assert_eq!(res.status, 303);
    b
}

/// A write made by another process on the same database (here, the test):
/// the server reads the content version again within `RECHECK`.
fn sql(dir: &tempfile::TempDir, statement: &str) {
    common::backend::site_db(dir.path()).exec(statement, &[]);
    elsewhere_settles();
}

fn elsewhere_settles() {
    std::thread::sleep(carnet::web::cache::RECHECK + Duration::from_millis(150));
}

fn every_write_shows_on_the_next_request() {
    let (dir, server) = site();
    let anon = Browser::new(server.port);
    // Fill the cache.
    for _ in 0..2 {
        assert!(anon.get("/").body.contains("Spring planting"));
        assert!(anon
            .get("/posts/spring-planting")
            .body
            .contains("Great tips!"));
        assert!(anon.get("/feed.xml").body.contains("Spring planting"));
    }
    // An edit made by another process (the CLI) on the same database.
    let import = r#"{"format": "carnet", "version": 1, "posts": [{"title": "Spring planting, revised", "slug": "spring-planting",
        "body_markdown": "New body.", "status": "published", "published_at": "2025-04-10T08:00:00Z", "author": "alice"}]}"#;
    std::fs::write(dir.path().join("edit.json"), import).unwrap();
    assert!(run(dir.path(), &["import", "edit.json"]).status.success());
    elsewhere_settles();
    assert!(anon.get("/").body.contains("Spring planting, revised"));
    assert!(anon
        .get("/posts/spring-planting")
        .body
        .contains("New body."));
    assert!(anon
        .get("/feed.xml")
        .body
        .contains("Spring planting, revised"));

    // A new comment.
    let bob = login(server.port, "bob");
    let res = bob.submit(
        "/posts/spring-planting",
        "/posts/spring-planting/comments",
        &[("body", "Fresh comment")],
    );
    assert_eq!(res.status, 303);
    assert!(anon
        .get("/posts/spring-planting")
        .body
        .contains("Fresh comment"));

    // A publish (draft → published) and a delete, through the admin of this
    // instance: the very next request shows them.
    let alice = login(server.port, "alice");
    let id: i64 = common::backend::site_db(dir.path())
        .scalar("SELECT id FROM posts WHERE slug = 'secret-draft'", &[]);
    let token = alice.get(&format!("/admin/posts/{id}/edit")).csrf();
    let res = alice.post_multipart(
        &format!("/admin/posts/{id}/edit"),
        &[
            ("csrf_token", &token),
            ("title", "Secret draft"),
            ("slug", "secret-draft"),
            ("body", "Not yet."),
            ("status", "published"),
            ("published_at", ""),
            ("intent", "save"),
        ],
        ("cover", "", b""),
    );
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(anon.get("/posts/secret-draft").status, 200);
    assert!(anon.get("/").body.contains("Secret draft"));
    let res = alice.post(
        &format!("/admin/posts/{id}/delete"),
        &[("csrf_token", &token)],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(anon.get("/posts/secret-draft").status, 404);
    assert!(!anon.get("/").body.contains("Secret draft"));
    // A delete by another process: shown within RECHECK.
    assert!(anon.get("/").body.contains("Borrowing in Rust"));
    sql(&dir, "DELETE FROM posts WHERE slug = 'borrowing-in-rust'");
    assert_eq!(anon.get("/posts/borrowing-in-rust").status, 404);
    assert!(!anon.get("/").body.contains("Borrowing in Rust"));

    // A scheduled post reaching its time, with nothing written meanwhile.
    let at = carnet::ground::dates::now() + 4;
    sql(
        &dir,
        &format!("UPDATE posts SET published_at = {at} WHERE slug = 'future-post'"),
    );
    assert!(!anon.get("/").body.contains("Future post"));
    assert!(
        !anon.get("/").body.contains("Future post"),
        "cached, still hidden"
    );
    std::thread::sleep(Duration::from_millis(3000));
    assert!(anon.get("/").body.contains("Future post"));
}

/// Serving a cached post page starts the comment form's timer, as rendering it
/// does: a visitor who only ever got the cached copy can still comment.
fn a_visitor_served_from_the_cache_can_comment() {
    let (dir, server) = site();
    assert_eq!(
        Browser::new(server.port)
            .get("/posts/spring-planting")
            .status,
        200
    );
    let visitor = Browser::new(server.port);
    let res = visitor.submit(
        "/posts/spring-planting",
        "/posts/spring-planting/comments",
        &[
            ("author_name", "Vic"),
            ("author_email", "vic@example.net"),
            ("body", "Served from the cache"),
        ],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    let stored: i64 = common::backend::site_db(dir.path()).scalar(
        "SELECT COUNT(*) FROM comments WHERE body = 'Served from the cache' AND status = 'pending'",
        &[],
    );
    assert_eq!(stored, 1, "kept for moderation, not dropped as a bot");
}

/// Many visitors asking for a page nobody has rendered yet: one renders it,
/// the others wait for it and get the same bytes (no error, no stale copy).
fn concurrent_misses_share_one_render() {
    let (_dir, server) = site();
    let port = server.port;
    let pages: Vec<(u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(move || {
                    let res = ureq::get(&format!("http://127.0.0.1:{port}/sitemap.xml"))
                        .call()
                        .unwrap();
                    (
                        res.status(),
                        res.header("ETag").unwrap_or_default().to_owned(),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(pages.iter().all(|(status, _)| *status == 200));
    assert!(pages
        .iter()
        .all(|(_, etag)| !etag.is_empty() && *etag == pages[0].1));
}

fn personal_pages_are_never_shared() {
    let (_dir, server) = site();
    let anon = Browser::new(server.port);
    let alice = login(server.port, "alice");
    for _ in 0..2 {
        let page = anon.get("/").body;
        assert!(
            page.contains("Log in") && !page.contains("Log out"),
            "anonymous page"
        );
        let mine = alice.get("/").body;
        assert!(
            mine.contains("Log out") && mine.contains("/accounts/profile"),
            "logged-in page"
        );
        assert!(!anon
            .get("/posts/spring-planting")
            .body
            .contains("Commenting as"));
        assert!(alice
            .get("/posts/spring-planting")
            .body
            .contains("Commenting as"));
    }
    // A flash message is for one visitor only.
    let res = alice.submit("/accounts/profile", "/accounts/logout", &[]);
    assert_eq!(res.status, 303);
    assert!(alice.get("/").body.contains("logged out"));
    assert!(!anon.get("/").body.contains("logged out"));
}

fn each_visitor_gets_their_own_csrf_token() {
    let (_dir, server) = site();
    let first = Browser::new(server.port);
    let second = Browser::new(server.port);
    let a = first.get("/posts/spring-planting").csrf();
    let b = second.get("/posts/spring-planting").csrf();
    assert_ne!(a, b, "the cached page carries each visitor's own token");
    assert_eq!(
        first.get("/posts/spring-planting").csrf(),
        a,
        "stable for one visitor"
    );
    // Each token works for its visitor only.
    let fields = |t: &str| {
        vec![
            ("author_name", "N".to_owned()),
            ("author_email", "n@example.net".to_owned()),
            ("body", "hi".to_owned()),
            ("csrf_token", t.to_owned()),
        ]
    };
    let f: Vec<(&str, String)> = fields(&b);
    let borrowed: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        first
            .post("/posts/spring-planting/comments", &borrowed)
            .status,
        403
    );
    let f: Vec<(&str, String)> = fields(&a);
    let borrowed: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        first
            .post("/posts/spring-planting/comments", &borrowed)
            .status,
        303
    );
}

fn cached_pages_are_gzipped_for_clients_that_ask() {
    use std::io::Read;
    let (_dir, server) = site();
    let url = format!("http://127.0.0.1:{}/feed.xml", server.port);
    let plain = ureq::get(&url).call().unwrap().into_string().unwrap();
    for _ in 0..2 {
        let res = ureq::get(&url)
            .set("Accept-Encoding", "br, gzip")
            .call()
            .unwrap();
        assert_eq!(res.header("Content-Encoding"), Some("gzip"));
        assert_eq!(res.header("Vary"), Some("Accept-Encoding"));
        let etag = res.header("ETag").unwrap().to_owned();
        let mut bytes = Vec::new();
        res.into_reader().read_to_end(&mut bytes).unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, plain);
        assert!(bytes.len() < plain.len());
        let again = ureq::get(&url)
            .set("Accept-Encoding", "gzip")
            .set("If-None-Match", &etag)
            .call()
            .unwrap();
        assert_eq!(again.status(), 304);
    }
}

backend_tests!(
    concurrent_misses_share_one_render,
    a_visitor_served_from_the_cache_can_comment,
    every_write_shows_on_the_next_request,
    personal_pages_are_never_shared,
    each_visitor_gets_their_own_csrf_token,
    cached_pages_are_gzipped_for_clients_that_ask,
);
