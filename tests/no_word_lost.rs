//! "No word lost, no door left open", end to end: the real binary over HTTP
//! (mail to a real SMTP receiver), on every backend. Each test is one thing a
//! person would notice: a guess that slips under a limit, a redirect that
//! breaks, an admin left without admins, a date that drifts, a page kept by a
//! shared cache.

mod common;

use std::path::Path;
use std::time::Duration;

use common::server::{Browser, Page, Server};
use common::site::Site;

const WAIT: Duration = Duration::from_secs(20);
const PASSWORD: &str = "correct horse battery";

/// A signed-in browser for `username` (password `PASSWORD`).
fn signed_in(site: &Site, username: &str) -> Browser {
    let b = site.browser();
    let res = login(&b, username, PASSWORD, "");
    assert_eq!(res.status, 303, "{}", res.body);
    b
}

/// Two admins, an author and a member (all confirmed, password `PASSWORD`), a
/// published post and a draft by each writer, a pending comment on each post.
fn site(extra: &str) -> Site {
    Site::start(extra, import_people_and_posts)
}

fn import_people_and_posts(dir: &Path) {
    let hash = carnet::users::password::hash(PASSWORD).unwrap();
    let users: Vec<serde_json::Value> = [
        ("root", "admin"),
        ("rita", "admin"),
        ("al", "author"),
        ("mo", "member"),
    ]
    .iter()
    .map(|(u, role)| serde_json::json!({"username": u, "email": format!("{u}@example.org"), "role": role, "password_hash": hash}))
    .collect();
    let doc = serde_json::json!({
        "format": "carnet", "version": 1, "users": users,
        "posts": [
            {"title": "Root's post", "slug": "roots-post", "body_markdown": "Text.", "status": "published",
             "published_at": "2025-01-01T10:20:37Z", "author": "root"},
            {"title": "Root's secret draft", "slug": "roots-draft", "body_markdown": "Draft.", "author": "root"},
            {"title": "Al's post", "slug": "als-post", "body_markdown": "Text.", "status": "published",
             "published_at": "2025-01-02T00:00:00Z", "author": "al"},
            {"title": "Al's own draft", "slug": "als-draft", "body_markdown": "Draft.", "author": "al"}
        ],
        "comments": [
            {"post": "roots-post", "author_name": "Pat", "author_email": "pat@example.net",
             "body": "Pending on root's post", "status": "pending", "created_at": "2025-01-03T00:00:00Z"},
            {"post": "als-post", "author_name": "Sam", "author_email": "sam@example.net",
             "body": "Pending on al's post", "status": "pending", "created_at": "2025-01-03T00:00:00Z"}
        ]
    });
    std::fs::write(dir.join("site.json"), doc.to_string()).unwrap();
    let out = common::server::run(dir, &["import", "site.json"]);
    assert!(
        out.status.success(),
        "{}",
        common::server::text(&out.stderr)
    );
}

fn login(b: &Browser, username: &str, password: &str, next: &str) -> Page {
    b.submit(
        "/accounts/login",
        "/accounts/login",
        &[
            ("username", username),
            ("password", password),
            ("next", next),
        ],
    )
}

fn signup(b: &Browser, username: &str, email: &str) -> Page {
    b.submit(
        "/accounts/signup",
        "/accounts/signup",
        &[
            ("username", username),
            ("email", email),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
}

fn signup_never_confirms_a_known_address_and_counts_every_attempt() {
    let site = site("rate_signup_per_hour = 3");
    let b = site.browser();
    let new = signup(&b, "nina", "nina@example.net");
    let known = signup(&b, "nino", "mo@example.org");
    assert_eq!(new.status, 303);
    assert_eq!(known.status, 303, "{}", known.body);
    assert_eq!(new.location, known.location, "the same answer either way");
    // The address's owner is told, with a way in; no account is made.
    let mail = site.smtp.last_to("mo@example.org", WAIT);
    assert!(mail.text().contains("already") && mail.text().contains("/accounts/password-reset"));
    assert_eq!(
        site.db()
            .scalar::<i64>("SELECT COUNT(*) FROM users WHERE username = 'nino'", &[]),
        0
    );
    // Refused forms count too: the fourth attempt this hour is a 429.
    let taken = signup(&b, "mo", "other@example.net");
    assert_eq!(taken.status, 422);
    assert_eq!(signup(&b, "zed", "zed@example.net").status, 429);
}

fn password_guesses_are_counted_before_they_are_checked() {
    let site = site("rate_login_failures_per_account = 3\nrate_login_per_minute = 100");
    // Ten guesses at once: only three are ever checked, the others are refused.
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let guesses: Vec<_> = (0..10)
            .map(|i| {
                let b = site.browser();
                s.spawn(move || login(&b, "al", &format!("wrong guess {i}"), "").status)
            })
            .collect();
        guesses.into_iter().map(|g| g.join().unwrap()).collect()
    });
    let checked = statuses.iter().filter(|s| **s == 422).count();
    assert!(checked <= 3, "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        10 - checked,
        "{statuses:?}"
    );
    // Even the right password waits out the lock.
    assert_eq!(login(&site.browser(), "al", PASSWORD, "").status, 429);

    // A right password gives its count back: logging in does not use up tries.
    let mo = site.browser();
    for _ in 0..4 {
        assert_eq!(login(&mo, "mo", PASSWORD, "").status, 303);
    }
    // The profile's password and address forms share the same limit.
    let wrong =
        |path: &str, fields: &[(&str, &str)]| mo.submit("/accounts/profile", path, fields).status;
    let change = [
        ("current_password", "not it at all"),
        ("password", "a brand new passphrase"),
        ("password_confirm", "a brand new passphrase"),
    ];
    assert_eq!(wrong("/accounts/profile/password", &change), 422);
    assert_eq!(wrong("/accounts/profile/password", &change), 422);
    let email = [
        ("email", "mo2@example.org"),
        ("current_password", "nope nope nope"),
    ];
    assert_eq!(wrong("/accounts/profile/email", &email), 422);
    assert_eq!(wrong("/accounts/profile/password", &change), 429);
    assert_eq!(wrong("/accounts/profile/email", &email), 429);
}

fn any_next_after_login_redirects_with_a_session() {
    let site = site("");
    for (next, location) in [
        ("/é", "/%C3%A9"),
        ("/posts/als-post?x=a b", "/posts/als-post?x=a%20b"),
        ("/\"quoted\"", "/%22quoted%22"),
        ("https://evil.example/", "/"),
    ] {
        let b = site.browser();
        let res = login(&b, "mo", PASSWORD, next);
        assert_eq!(res.status, 303, "{next}: {}", res.body);
        assert_eq!(res.location.as_deref(), Some(location), "{next}");
        assert_eq!(b.get("/accounts/profile").status, 200, "{next}: logged in");
    }
}

fn two_admins_demoting_each_other_leave_one_admin() {
    let site = site("");
    let root = signed_in(&site, "root");
    let rita = signed_in(&site, "rita");
    let id = |name: &str| -> i64 {
        site.db().scalar(
            "SELECT id FROM users WHERE username = ?",
            &[name.to_owned().into()],
        )
    };
    let (root_id, rita_id) = (id("root"), id("rita"));
    let root_token = root.get("/admin/users").csrf();
    let rita_token = rita.get("/admin/users").csrf();
    for round in 0..5 {
        std::thread::scope(|s| {
            let a = s.spawn(|| {
                root.post(
                    &format!("/admin/users/{rita_id}/role"),
                    &[("csrf_token", &root_token), ("role", "editor")],
                )
                .status
            });
            let b = s.spawn(|| {
                rita.post(
                    &format!("/admin/users/{root_id}/role"),
                    &[("csrf_token", &rita_token), ("role", "editor")],
                )
                .status
            });
            // Whoever is demoted first may no longer act as an admin (403).
            let statuses = [a.join().unwrap(), b.join().unwrap()];
            assert!(statuses.contains(&303), "{statuses:?}");
            assert!(
                statuses.iter().all(|s| [303, 403].contains(s)),
                "{statuses:?}"
            );
        });
        let admins: i64 = site.db().scalar(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND is_active = 1",
            &[],
        );
        assert_eq!(admins, 1, "round {round}");
        site.db().exec(
            "UPDATE users SET role = 'admin' WHERE username IN ('root', 'rita')",
            &[],
        );
    }
}

fn an_untouched_date_keeps_its_seconds() {
    let site = site("");
    let root = signed_in(&site, "root");
    let post_id: i64 = site
        .db()
        .scalar("SELECT id FROM posts WHERE slug = 'roots-post'", &[]);
    let before: i64 = site.db().scalar(
        "SELECT published_at FROM posts WHERE id = ?",
        &[post_id.into()],
    );
    assert_eq!(before % 60, 37, "the fixture has seconds");
    let edit = format!("/admin/posts/{post_id}/edit");
    let form = root.get(&edit);
    let shown = common::server::form_field(&form.body, "published_at").unwrap();
    assert_eq!(shown, "2025-01-01T10:20");
    let res = root.post_multipart(
        &edit,
        &[
            ("csrf_token", &form.csrf()),
            ("title", "Root's post, edited"),
            ("slug", "roots-post"),
            ("body", "Text, edited."),
            ("status", "published"),
            ("published_at", &shown),
        ],
        ("cover", "", b""),
    );
    assert_eq!(res.status, 303, "{}", res.body);
    let after: i64 = site.db().scalar(
        "SELECT published_at FROM posts WHERE id = ?",
        &[post_id.into()],
    );
    assert_eq!(after, before, "published_at kept to the second");
}

fn authors_see_only_their_own_on_the_dashboard() {
    let site = site("");
    let al = signed_in(&site, "al");
    let page = al.get("/admin");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Al&#x27;s own draft") || page.body.contains("Al's own draft"));
    assert!(
        !page.body.contains("secret draft"),
        "another author's draft"
    );
    assert!(page.body.contains("Pending on al"));
    assert!(
        !page.body.contains("Pending on root"),
        "comments on others' posts"
    );
    let root = signed_in(&site, "root").get("/admin").body;
    assert!(root.contains("secret draft") && root.contains("Pending on root"));
}

fn sessions_slide_and_private_pages_are_never_stored() {
    let site = site("");
    let mo = signed_in(&site, "mo");
    // A minute and more later, the session's expiry moves, and so does the cookie's.
    site.db()
        .exec("UPDATE sessions SET last_seen_at = last_seen_at - 120", &[]);
    let res = mo
        .agent
        .get(&site.server.url("/accounts/profile"))
        .call()
        .unwrap();
    let cookies: Vec<&str> = res.all("Set-Cookie");
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("carnet_session=") && c.contains("Max-Age=1209600")),
        "{cookies:?}"
    );
    assert_eq!(res.header("Cache-Control"), Some("no-store"));
    let admin = signed_in(&site, "root");
    let res = admin
        .agent
        .get(&site.server.url("/admin/posts"))
        .call()
        .unwrap();
    assert_eq!(res.header("Cache-Control"), Some("no-store"));
    let login_page = ureq::get(&site.server.url("/accounts/login"))
        .call()
        .unwrap();
    assert_eq!(login_page.header("Cache-Control"), Some("no-store"));
    // A client that refuses gzip gets none.
    for (accept, gzip) in [("gzip;q=0", false), ("gzip", true), ("br, *;q=0", false)] {
        let res = ureq::get(&site.server.url("/"))
            .set("Accept-Encoding", accept)
            .call()
            .unwrap();
        assert_eq!(
            res.header("Content-Encoding") == Some("gzip"),
            gzip,
            "{accept}"
        );
    }
}

backend_tests!(
    signup_never_confirms_a_known_address_and_counts_every_attempt,
    password_guesses_are_counted_before_they_are_checked,
    any_next_after_login_redirects_with_a_session,
    two_admins_demoting_each_other_leave_one_admin,
    an_untouched_date_keeps_its_seconds,
    authors_see_only_their_own_on_the_dashboard,
    sessions_slide_and_private_pages_are_never_stored,
);

/// With every connection held, a request waits a bounded time, then gets a
/// 503 with `Retry-After` (not a 500); once one is free, pages answer again.
#[test]
fn a_busy_database_is_a_503_with_retry_after() {
    let app = common::TestApp::on_sqlite();
    let client = app.client();
    assert_eq!(common::get(&client, "/healthz").0, 200);
    let held: Vec<_> = (0..8).map(|_| app.db.conn().unwrap()).collect();
    let started = std::time::Instant::now();
    let res = client.get("/archive").dispatch();
    assert_eq!(res.status().code, 503);
    assert_eq!(res.headers().get_one("Retry-After"), Some("5"));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "a bounded wait"
    );
    let body = res.into_string().unwrap();
    assert!(body.contains("try again"), "{body}");
    drop(held);
    assert_eq!(common::get(&client, "/archive").0, 200);
}

/// The database, its log and the outbox are readable by Carnet's user alone,
/// whatever the umask; media are public (a proxy may serve them from disk); a
/// sent mail keeps its metadata, not its body (a reset link stays nowhere).
#[test]
#[cfg(unix)]
fn secrets_stay_private_and_mail_bodies_go_once_sent() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Rocket.toml"),
        "[default]\nmail_transport = \"log\"\n",
    )
    .unwrap();
    let server = Server::start(dir.path());
    let b = Browser::new(server.port);
    assert_eq!(signup(&b, "nina", "nina@example.net").status, 303);
    let data = dir.path().join("data");
    let outbox = data.join("outbox");
    let started = std::time::Instant::now();
    let eml = loop {
        let found = std::fs::read_dir(&outbox)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(Result::ok);
        if let Some(entry) = found {
            break entry.path();
        }
        assert!(started.elapsed() < WAIT, "the mail reaches the outbox");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&eml), 0o600, "outbox file");
    assert_eq!(mode(&outbox), 0o700, "outbox folder");
    assert_eq!(mode(&data.join("carnet.db")), 0o600, "database");
    assert_eq!(mode(&data.join("carnet.db-wal")), 0o600, "write-ahead log");
    assert_eq!(mode(&data.join("secret_key")), 0o600, "secret key");
    assert_eq!(
        mode(&data),
        0o711,
        "data folder: passable to reach media, not listable"
    );
    assert_eq!(mode(&data.join("media")), 0o755);
    // Delivered: the body (with its confirmation link) is gone from the queue.
    let db = common::backend::site_db(dir.path());
    let started = std::time::Instant::now();
    while db.scalar::<i64>("SELECT COUNT(*) FROM mail_queue WHERE status = 'sent'", &[]) == 0 {
        assert!(started.elapsed() < WAIT);
        std::thread::sleep(Duration::from_millis(50));
    }
    let row = db.row(
        "SELECT to_addr, subject, body_text, body_html FROM mail_queue WHERE status = 'sent'",
        &[],
    );
    assert_eq!(row.get::<String>(0).unwrap(), "nina@example.net");
    assert!(!row.get::<String>(1).unwrap().is_empty());
    assert_eq!(row.get::<String>(2).unwrap(), "");
    assert_eq!(row.get::<String>(3).unwrap(), "");
    // Past the retention, housekeeping forgets the record and the file.
    let mut c = db.0.conn().unwrap();
    assert_eq!(
        carnet::mail::queue::purge(&mut c, carnet::ground::dates::now() + 1).unwrap(),
        1
    );
    assert_eq!(
        carnet::mail::transport::purge_outbox(&outbox, Duration::ZERO),
        1
    );
}

/// A `/proc/<pid>/status` figure in KiB (`VmHWM`: the peak resident memory).
#[cfg(target_os = "linux")]
fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Four members upload a 12000×7400 PNG avatar (259 KB on the wire, 89 MB of
/// pixels) at the same moment: the jobs share one 256 MB budget, so the
/// server's peak memory stays within it (it took about 1 GB).
#[test]
#[cfg(target_os = "linux")]
fn four_huge_avatars_at_once_stay_within_the_image_memory_budget() {
    let site = site("max_upload_bytes = 20000000");
    let mut png = Vec::new();
    image::DynamicImage::ImageLuma8(image::GrayImage::from_fn(12_000, 7_400, |x, y| {
        image::Luma([((x / 500 + y / 500) % 2 * 200) as u8])
    }))
    .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
    .unwrap();
    let browsers: Vec<Browser> = ["root", "rita", "al", "mo"]
        .iter()
        .map(|u| signed_in(&site, u))
        .collect();
    let before = proc_kib(site.server.pid(), "VmRSS:");
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let uploads: Vec<_> = browsers
            .iter()
            .map(|b| {
                let png = &png;
                s.spawn(move || {
                    let token = b.get("/accounts/profile").csrf();
                    b.post_multipart(
                        "/accounts/profile",
                        &[("csrf_token", &token), ("display_name", "Big")],
                        ("avatar", "big.png", png),
                    )
                    .status
                })
            })
            .collect();
        uploads.into_iter().map(|u| u.join().unwrap()).collect()
    });
    assert_eq!(statuses, vec![303; 4], "every avatar is taken");
    let peak = proc_kib(site.server.pid(), "VmHWM:");
    let grown_mib = peak.saturating_sub(before) / 1024;
    eprintln!(
        "image memory: peak {} MiB, {grown_mib} MiB over the start",
        peak / 1024
    );
    assert!(grown_mib < 256 + 64, "peak grew by {grown_mib} MiB");
    let avatars: i64 = site
        .db()
        .scalar("SELECT COUNT(*) FROM users WHERE avatar IS NOT NULL", &[]);
    assert_eq!(avatars, 4);
}
