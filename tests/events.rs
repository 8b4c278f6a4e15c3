//! The event outbox, end to end with the real binary: a post scheduled while
//! `serve` is stopped is announced once when it starts; several instances on
//! one database handle every event once (on PostgreSQL and MariaDB as behind
//! a load balancer; on SQLite, processes sharing the file).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use carnet::ground::dates;
use carnet::params;
use common::backend::site_db;
use common::server::{create_admin, run, text, Browser, Server};

const PASSWORD: &str = "correct horse battery";

fn superuser(d: &Path) {
    create_admin(d, "root", PASSWORD);
}

/// Imports posts: (slug, published_at), all by `root`.
fn import_posts(d: &Path, posts: &[(&str, i64)]) {
    let posts: Vec<serde_json::Value> = posts
        .iter()
        .map(|(slug, at)| {
            serde_json::json!({
                "title": format!("Post {slug}"), "slug": slug, "body_markdown": "Hello.",
                "status": "published", "published_at": dates::rfc3339(*at), "author": "root",
                "tags": [], "comments_enabled": true,
            })
        })
        .collect();
    let file = d.join("site.json");
    let site = serde_json::json!({"format": "carnet", "version": 1, "posts": posts});
    std::fs::write(&file, site.to_string()).unwrap();
    let out = run(d, &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Waits until `check` holds, for at most `limit`.
fn wait_for(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn published_events(d: &Path, slug: &str) -> i64 {
    site_db(d).scalar(
        "SELECT COUNT(*) FROM events e JOIN posts p ON p.id = e.subject_id \
         WHERE e.kind = 'PostPublished' AND p.slug = ?",
        params![slug],
    )
}

fn a_post_scheduled_while_stopped_is_announced_once_when_serve_starts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    superuser(d);
    let now = dates::now();
    import_posts(d, &[("history", now - 86_400), ("later", now + 3)]);
    // Imported history announces nothing, and nothing is due yet.
    assert_eq!(
        site_db(d).scalar::<i64>("SELECT COUNT(*) FROM events", params![]),
        0
    );

    // Its time comes while Carnet is stopped.
    std::thread::sleep(Duration::from_secs(4));
    let mut server = Server::start(d);
    wait_for(Duration::from_secs(15), "the PostPublished event", || {
        published_events(d, "later") == 1
    });
    let row = site_db(d).row(
        "SELECT status, payload FROM events WHERE kind = 'PostPublished'",
        params![],
    );
    let payload: serde_json::Value = serde_json::from_str(&row.get::<String>(1).unwrap()).unwrap();
    assert_eq!(payload["slug"], "later");
    assert_eq!(payload["first"], true);
    wait_for(Duration::from_secs(10), "the event handled", || {
        site_db(d).scalar::<String>(
            "SELECT status FROM events WHERE kind = 'PostPublished'",
            params![],
        ) == "done"
    });
    assert_eq!(published_events(d, "history"), 0);
    assert_eq!(Browser::new(server.port).get("/posts/later").status, 200);

    // A restart announces nothing again.
    server.kill();
    let server = Server::start(d);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(published_events(d, "later"), 1);
    assert_eq!(
        site_db(d).scalar::<i64>("SELECT COUNT(*) FROM events", params![]),
        1
    );
    let listed = run(d, &["events"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listed = text(&listed.stdout);
    assert!(listed.contains("PostPublished"), "{listed}");
    assert!(listed.contains("done by"), "{listed}");
    drop(server);
}

fn the_editor_records_what_a_change_means_to_readers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    superuser(d);
    let server = Server::start(d);
    let admin = Browser::new(server.port);
    let res = admin.submit(
        "/accounts/login",
        "/accounts/login",
        &[("username", "root"), ("password", PASSWORD)],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    let save = |path: &str, status: &str, body: &str| {
        let token = admin.get("/admin/posts/new").csrf();
        let res = admin.post_multipart(
            path,
            &[
                ("csrf_token", &token),
                ("title", "Kinds"),
                ("slug", "kinds"),
                ("body", body),
                ("tags", ""),
                ("status", status),
                ("published_at", ""),
                ("comments_enabled", "1"),
                ("intent", "save"),
            ],
            ("cover", "", b""),
        );
        assert_eq!(res.status, 303, "{}", res.body);
        res.location.unwrap()
    };
    let edit = save("/admin/posts/new", "draft", "First.");
    save(&edit, "draft", "Second.");
    save(&edit, "published", "Third.");
    save(&edit, "published", "Fourth.");
    save(&edit, "draft", "Fifth.");
    save(&edit, "published", "Sixth.");
    let id: i64 = site_db(d).scalar("SELECT id FROM posts WHERE slug = 'kinds'", params![]);
    let token = admin.get(&format!("/admin/posts/{id}/delete")).csrf();
    let res = admin.post(
        &format!("/admin/posts/{id}/delete"),
        &[("csrf_token", &token)],
    );
    assert_eq!(res.status, 303);
    let kinds: Vec<String> = site_db(d)
        .rows(
            "SELECT kind FROM events WHERE subject_id = ? AND kind LIKE 'Post%' ORDER BY id",
            params![id],
        )
        .iter()
        .map(|r| r.get(0).unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "PostPublished",
            "PostUpdated",
            "PostUnpublished",
            "PostPublished",
            "PostDeleted"
        ],
        "drafts record nothing"
    );
    let firsts: Vec<String> = site_db(d)
        .rows(
            "SELECT payload FROM events WHERE subject_id = ? AND kind = 'PostPublished' ORDER BY id",
            params![id],
        )
        .iter()
        .map(|r| r.get(0).unwrap())
        .collect();
    assert!(firsts[0].contains("\"first\":true"), "{}", firsts[0]);
    assert!(firsts[1].contains("\"first\":false"), "{}", firsts[1]);
}

fn two_instances_handle_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    superuser(d);
    let now = dates::now();
    let mut posts = vec![("open".to_owned(), now - 3600)];
    posts.extend((0..20).map(|i| (format!("soon-{i}"), now + 4)));
    let posts: Vec<(&str, i64)> = posts.iter().map(|(s, t)| (s.as_str(), *t)).collect();
    import_posts(d, &posts);
    let a = Server::start(d);
    let b = Server::start(d);

    // A real comment through each instance: each mails the admin once.
    for port in [a.port, b.port] {
        let anon = Browser::new(port);
        let res = anon.submit(
            "/posts/open",
            "/posts/open/comments",
            &[
                ("author_name", "Ada"),
                ("author_email", "ada@example.net"),
                ("body", "A comment."),
            ],
        );
        assert_eq!(res.status, 303, "{}", res.body);
    }
    // Many events at once, for both instances to race on.
    let comment: i64 = site_db(d).scalar("SELECT MIN(id) FROM comments", params![]);
    let db = site_db(d);
    for _ in 0..100 {
        db.exec(
            "INSERT INTO events (kind, subject_id, payload, status, attempts, next_attempt_at, created_at) \
             VALUES ('CommentPosted', ?, '{}', 'pending', 0, ?, ?)",
            params![comment, now, now],
        );
    }
    wait_for(Duration::from_secs(30), "every event handled", || {
        let pending: i64 = db.scalar(
            "SELECT COUNT(*) FROM events WHERE status <> 'done'",
            params![],
        );
        let due: i64 = db.scalar(
            "SELECT COUNT(*) FROM posts WHERE slug LIKE 'soon-%' AND live = 1",
            params![],
        );
        pending == 0 && due == 20
    });
    std::thread::sleep(Duration::from_secs(2));
    for i in 0..20 {
        assert_eq!(published_events(d, &format!("soon-{i}")), 1, "soon-{i}");
    }
    let handled: i64 = db.scalar(
        "SELECT COUNT(*) FROM events WHERE kind = 'CommentPosted' AND status = 'done'",
        params![],
    );
    assert_eq!(handled, 102);
    // One mail per handled comment event: none lost, none twice.
    let mails: i64 = db.scalar("SELECT COUNT(*) FROM mail_queue", params![]);
    assert_eq!(mails, 102);
    let handlers: i64 = db.scalar(
        "SELECT COUNT(DISTINCT handled_by) FROM events WHERE status = 'done'",
        params![],
    );
    assert!((1..=2).contains(&handlers), "{handlers}");
    drop((a, b));
}

backend_tests!(
    a_post_scheduled_while_stopped_is_announced_once_when_serve_starts,
    the_editor_records_what_a_change_means_to_readers,
    two_instances_handle_each_event_once,
);
