//! Fault injection: `kill -9` of `serve` while people comment and an editor
//! saves, and of `import` at several points of its work. Afterwards every
//! request that got a success answer is stored, an import is all or nothing,
//! the SQLite file passes `PRAGMA integrity_check`, and `serve` starts again.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::server::{run, Browser, Server};

const PASSWORD: &str = "correct horse battery";

fn write_site(dir: &Path, extra: &str) {
    std::fs::write(
        dir.join("Rocket.toml"),
        format!("[default]\nrate_comments_per_minute = 100000\ncomment_min_seconds = 0\n{extra}\n"),
    )
    .unwrap();
    let hash = carnet::users::password::hash(PASSWORD).unwrap();
    let doc = serde_json::json!({
        "format": "carnet", "version": 1,
        "users": [
            {"username": "ed", "email": "ed@example.org", "role": "editor", "password_hash": hash},
            {"username": "mo", "email": "mo@example.org", "role": "member", "password_hash": hash}
        ],
        "posts": [{"title": "Busy", "slug": "busy", "body_markdown": "Version 0", "status": "published",
                   "published_at": "2025-01-01T00:00:00Z", "author": "ed"}]
    });
    std::fs::write(dir.join("site.json"), doc.to_string()).unwrap();
    let out = run(dir, &["import", "site.json"]);
    assert!(
        out.status.success(),
        "{}",
        common::server::text(&out.stderr)
    );
}

fn login(port: u16, username: &str) -> Browser {
    let b = Browser::new(port);
    let res = b.submit(
        "/accounts/login",
        "/accounts/login",
        &[("username", username), ("password", PASSWORD)],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    b
}

/// A request that may die with the server: its status, or `None`.
fn try_post(b: &Browser, path: &str, fields: &[(&str, &str)]) -> Option<u16> {
    match b.agent.post(&b.url(path)).send_form(fields) {
        Ok(res) => Some(res.status()),
        Err(ureq::Error::Status(code, _)) => Some(code),
        Err(_) => None,
    }
}

fn integrity_ok(dir: &Path) {
    if common::backend::current() != common::backend::Backend::Sqlite {
        return;
    }
    let db = common::backend::site_db(dir);
    let verdict: String = db.scalar("PRAGMA integrity_check", &[]);
    assert_eq!(verdict, "ok");
}

fn kill_9_while_people_write_loses_no_acknowledged_word() {
    let dir = tempfile::tempdir().unwrap();
    write_site(dir.path(), "");
    let mut server = Server::start(dir.path());
    let port = server.port;
    let editor = login(port, "ed");
    let post_id: i64 = common::backend::site_db(dir.path())
        .scalar("SELECT id FROM posts WHERE slug = 'busy'", &[]);
    let edit = format!("/admin/posts/{post_id}/edit");
    let edit_token = editor.get(&edit).csrf();
    let commenters: Vec<(Browser, String)> = (0..3)
        .map(|_| {
            let b = login(port, "mo");
            let token = b.get("/posts/busy").csrf();
            (b, token)
        })
        .collect();
    let stop = AtomicBool::new(false);
    let acknowledged = Mutex::new(Vec::<String>::new());
    let saves = Mutex::new(Vec::<(u32, bool)>::new());
    std::thread::scope(|s| {
        for (n, (b, token)) in commenters.iter().enumerate() {
            let (stop, acknowledged) = (&stop, &acknowledged);
            s.spawn(move || {
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let body = format!("comment {n}-{i}");
                    let fields = [("csrf_token", token.as_str()), ("body", body.as_str())];
                    match try_post(b, "/posts/busy/comments", &fields) {
                        Some(303) => acknowledged.lock().unwrap().push(body),
                        Some(status) => panic!("comment answered {status}"),
                        None => break,
                    }
                }
            });
        }
        s.spawn(|| {
            for version in 1.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let body = format!("Version {version}");
                let fields = [
                    ("csrf_token", edit_token.as_str()),
                    ("title", "Busy"),
                    ("slug", "busy"),
                    ("body", body.as_str()),
                    ("status", "published"),
                    ("published_at", "2025-01-01T00:00"),
                    ("comments_enabled", "on"),
                ];
                // Sent before the answer: a save may land without one.
                saves.lock().unwrap().push((version, false));
                match try_post(&editor, &edit, &fields) {
                    Some(303) => saves.lock().unwrap().last_mut().unwrap().1 = true,
                    Some(status) => panic!("save answered {status}"),
                    None => break,
                }
            }
        });
        std::thread::sleep(Duration::from_millis(1500));
        server.kill();
        stop.store(true, Ordering::Relaxed);
    });
    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(
        acknowledged.len() > 10,
        "the writers were busy: {}",
        acknowledged.len()
    );
    integrity_ok(dir.path());
    let db = common::backend::site_db(dir.path());
    for body in &acknowledged {
        let stored: i64 = db.scalar(
            "SELECT COUNT(*) FROM comments WHERE body = ?",
            &[body.clone().into()],
        );
        assert_eq!(stored, 1, "{body} was answered 303 but is not stored");
    }
    // The post holds the last acknowledged save, or a later one sent before the kill.
    let saves = saves.into_inner().unwrap();
    let last_ok = saves
        .iter()
        .filter(|(_, ok)| *ok)
        .map(|(v, _)| *v)
        .max()
        .unwrap_or(0);
    let body: String = db.scalar(
        "SELECT body_markdown FROM posts WHERE id = ?",
        &[post_id.into()],
    );
    let stored: u32 = body.trim_start_matches("Version ").parse().unwrap();
    assert!(stored >= last_ok, "saved {last_ok}, found {stored}");
    // And the site comes back.
    drop(db);
    let server = Server::start(dir.path());
    assert_eq!(server.get("/healthz").0, 200);
    let page = server.get("/posts/busy").1;
    assert!(page.contains(&format!("Version {stored}")));
}

/// A site file big enough that importing it takes a while.
fn big_site(posts: usize, comments_per_post: usize) -> String {
    let mut post_list = Vec::with_capacity(posts);
    let mut comments = Vec::with_capacity(posts * comments_per_post);
    for p in 0..posts {
        post_list.push(serde_json::json!({
            "title": format!("Post {p}"), "slug": format!("post-{p}"), "status": "published",
            "published_at": "2025-01-01T00:00:00Z", "author": "ed", "tags": [format!("tag-{}", p % 50)],
            "body_markdown": format!("# Post {p}\n\nSome *Markdown* with a [link](https://example.com/{p}).\n\n- a\n- b\n"),
        }));
        for c in 0..comments_per_post {
            comments.push(serde_json::json!({
                "post": format!("post-{p}"), "author_name": "Reader", "author_email": format!("r{c}@example.net"),
                "body": format!("Comment {c} on post {p}"), "status": "approved",
                "created_at": format!("2025-02-01T00:{:02}:{:02}Z", c / 60 % 60, c % 60),
            }));
        }
    }
    serde_json::json!({
        "format": "carnet", "version": 1,
        "users": [{"username": "ed", "email": "ed@example.org", "role": "editor"}],
        "posts": post_list, "comments": comments,
    })
    .to_string()
}

fn kill_9_during_import_leaves_all_or_nothing() {
    let file = tempfile::tempdir().unwrap();
    let site_json = file.path().join("big.json");
    std::fs::write(&site_json, big_site(1500, 8)).unwrap();
    let site_json = site_json.to_str().unwrap().to_owned();
    // How long a whole import takes here, then kills spread across it.
    let timed = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = run(timed.path(), &["import", &site_json]);
    assert!(
        out.status.success(),
        "{}",
        common::server::text(&out.stderr)
    );
    let whole = started.elapsed();
    let full: i64 =
        common::backend::site_db(timed.path()).scalar("SELECT COUNT(*) FROM posts", &[]);
    assert_eq!(full, 1500);
    let mut outcomes = Vec::new();
    for tenth in [1u32, 3, 5, 7, 9] {
        let dir = tempfile::tempdir().unwrap();
        // The schema first, so the kill lands in the import itself.
        assert!(run(dir.path(), &["migrate"]).status.success());
        let mut child = common::server::carnet(dir.path())
            .args(["import", &site_json])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(whole * tenth / 10);
        let _ = child.kill();
        let _ = child.wait();
        integrity_ok(dir.path());
        let db = common::backend::site_db(dir.path());
        let posts: i64 = db.scalar("SELECT COUNT(*) FROM posts", &[]);
        let comments: i64 = db.scalar("SELECT COUNT(*) FROM comments", &[]);
        let users: i64 = db.scalar("SELECT COUNT(*) FROM users", &[]);
        assert!(
            (posts, comments, users) == (0, 0, 0) || (posts, comments, users) == (1500, 12_000, 1),
            "killed at {tenth}/10: {posts} posts, {comments} comments, {users} users"
        );
        outcomes.push(posts);
        // The interrupted import runs again to the end.
        drop(db);
        let out = run(dir.path(), &["import", &site_json]);
        assert!(
            out.status.success(),
            "{}",
            common::server::text(&out.stderr)
        );
        let posts: i64 =
            common::backend::site_db(dir.path()).scalar("SELECT COUNT(*) FROM posts", &[]);
        assert_eq!(posts, 1500);
    }
    eprintln!("import killed at 1/10 … 9/10 of {whole:?}: posts left {outcomes:?}");
}

backend_tests!(
    kill_9_while_people_write_loses_no_acknowledged_word,
    kill_9_during_import_leaves_all_or_nothing,
);
