//! Several `carnet serve` processes on one database, as behind a load balancer
//! (PostgreSQL or MySQL; on SQLite, processes sharing one file on one machine):
//! what one instance writes, the other shows within `RECHECK` (one second),
//! even for pages it had cached; a session opened on one works on the other and
//! ends on both at logout.

mod common;

use common::server::{create_admin, Browser, Server};

const PASSWORD: &str = "correct horse battery";

fn two_instances_share_content_sessions_and_cache_freshness() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    create_admin(d, "root", PASSWORD);
    // Same folder, so the same secret key; the database comes from the backend.
    let a = Server::start(d);
    let b = Server::start(d);

    // B caches its pages before anything is written.
    let anon_b = Browser::new(b.port);
    for _ in 0..2 {
        let home = anon_b.get("/");
        assert_eq!(home.status, 200);
        assert!(!home.body.contains("Written on A"));
        assert_eq!(anon_b.get("/posts/written-on-a").status, 404);
    }

    // An admin logs in and writes through A.
    let on_a = Browser::new(a.port);
    let res = on_a.submit(
        "/accounts/login",
        "/accounts/login",
        &[("username", "root"), ("password", PASSWORD)],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    let token = on_a.get("/admin/posts/new").csrf();
    let res = on_a.post_multipart(
        "/admin/posts/new",
        &[
            ("csrf_token", &token),
            ("title", "Written on A"),
            ("slug", ""),
            ("body", "Hello from *A*."),
            ("tags", "Scale"),
            ("status", "published"),
            ("published_at", ""),
            ("comments_enabled", "1"),
            ("intent", "save"),
        ],
        ("cover", "", b""),
    );
    assert_eq!(res.status, 303, "{}", res.body);

    // B shows it once it reads the content version again: at most
    // `RECHECK` later (a write through B itself shows on the next request).
    std::thread::sleep(carnet::web::cache::RECHECK + std::time::Duration::from_millis(150));
    assert!(anon_b.get("/").body.contains("Written on A"));
    let post = anon_b.get("/posts/written-on-a");
    assert_eq!(post.status, 200);
    assert!(post.body.contains("<em>A</em>"));
    assert!(anon_b.get("/tags/scale").body.contains("Written on A"));
    assert!(anon_b.get("/feed.xml").body.contains("Written on A"));
    assert!(anon_b
        .get("/search?q=hello")
        .body
        .contains("/posts/written-on-a"));

    // The session opened on A works on B, CSRF token included.
    let on_b = on_a.on_port(b.port);
    let dashboard = on_b.get("/admin/posts");
    assert_eq!(dashboard.status, 200);
    assert!(dashboard.body.contains("Written on A"));
    let token_b = on_b.get("/admin/posts/new").csrf();
    assert_eq!(token_b, token, "one session, one token, on every instance");

    // Logging out on A ends the session on B too.
    assert_eq!(
        on_a.post("/accounts/logout", &[("csrf_token", &token)])
            .status,
        303
    );
    let after = on_b.get("/admin/posts");
    assert_eq!(after.status, 303, "{}", after.body);
    assert!(after
        .location
        .unwrap_or_default()
        .starts_with("/accounts/login"));
}

backend_tests!(two_instances_share_content_sessions_and_cache_freshness);
