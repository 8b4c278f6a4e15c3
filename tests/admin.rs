//! The admin area end to end: the real binary over HTTP, real forms.

mod common;

use std::path::Path;
use std::time::Duration;

use common::server::{Browser, Page, Server};

const PASSWORD: &str = "correct horse battery";

struct Site {
    dir: tempfile::TempDir,
    server: Server,
}

impl Site {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn login(&self, username: &str) -> Browser {
        let b = Browser::new(self.server.port);
        let res = b.submit(
            "/accounts/login",
            "/accounts/login",
            &[("username", username), ("password", PASSWORD)],
        );
        assert_eq!(res.status, 303, "login {username}: {}", res.body);
        b
    }

    fn db(&self) -> common::backend::TestDb {
        common::backend::site_db(self.path())
    }

    fn media_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path().join("data/media"))
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// A site with an admin, an editor, two authors and a member, all able to log in.
fn site(extra_config: &str) -> Site {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Rocket.toml"),
        format!("[default]\n{extra_config}\n"),
    )
    .unwrap();
    let hash = carnet::users::password::hash(PASSWORD).unwrap();
    let users: Vec<serde_json::Value> = [("root", "admin"), ("ed", "editor"), ("al", "author"), ("bo", "author"), ("mo", "member")]
        .iter()
        .map(|(u, role)| serde_json::json!({"username": u, "email": format!("{u}@example.org"), "role": role, "password_hash": hash}))
        .collect();
    let site = serde_json::json!({
        "format": "carnet", "version": 1, "users": users,
        "posts": [{"title": "Moderated", "slug": "moderated", "body_markdown": "Text.", "status": "published",
                   "published_at": "2025-01-01T00:00:00Z", "author": "al"}],
        "comments": [
            {"id": 1, "post": "moderated", "author_name": "Pat", "author_email": "pat@example.net", "body": "Pending words",
             "status": "pending", "created_at": "2025-01-02T00:00:00Z"},
            {"id": 2, "post": "moderated", "author_name": "Sam", "author_email": "sam@example.net", "body": "Approved words",
             "status": "approved", "created_at": "2025-01-03T00:00:00Z"}
        ]
    });
    std::fs::write(dir.path().join("site.json"), site.to_string()).unwrap();
    let out = common::server::run(dir.path(), &["import", "site.json"]);
    assert!(
        out.status.success(),
        "{}",
        common::server::text(&out.stderr)
    );
    let server = Server::start(dir.path());
    Site { dir, server }
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    }));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, 40, (y % 256) as u8])
    }));
    let mut out = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut out),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    out
}

/// A JPEG carrying an EXIF block with a GPS IFD (and a marker string to look for).
fn jpeg_with_gps() -> Vec<u8> {
    let plain = jpeg(64, 48);
    // TIFF little endian: IFD0 with one entry, GPSInfo (0x8825) → GPS IFD at offset 26,
    // whose single entry GPSLatitudeRef = "N"; then the marker as trailing data.
    let mut tiff: Vec<u8> = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&[1, 0, 0x25, 0x88, 4, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0, 0, 0, 0]);
    tiff.extend_from_slice(&[1, 0, 1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0, 0, 0, 0, 0]);
    tiff.extend_from_slice(b"GPS-SECRET-LOCATION");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let len = (app1.len() + 2) as u16;
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

/// A valid PNG header announcing 30000×30000 pixels, tiny on disk.
fn png_bomb() -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&30000u32.to_be_bytes());
    ihdr.extend_from_slice(&30000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

fn upload(b: &Browser, name: &str, bytes: &[u8]) -> Page {
    let token = b.get("/admin/media").csrf();
    b.post_multipart(
        "/admin/media",
        &[("csrf_token", &token)],
        ("file", name, bytes),
    )
}

fn utc(ts: i64) -> String {
    carnet::ground::dates::rfc3339(ts)
        .trim_end_matches('Z')
        .to_owned()
}

fn an_editor_writes_previews_schedules_edits_and_deletes_a_post() {
    let site = site("");
    let b = site.login("ed");
    let token = b.get("/admin/posts/new").csrf();

    // Preview without JavaScript: the editor comes back with the rendered body, nothing saved.
    let res = b.post_multipart(
        "/admin/posts/new",
        &[
            ("csrf_token", &token),
            ("title", "Hello"),
            ("body", "Some **bold** text"),
            ("intent", "preview"),
            ("status", "draft"),
        ],
        ("cover", "", b""),
    );
    assert_eq!(res.status, 200);
    assert!(res.body.contains("<strong>bold</strong>"), "{}", res.body);
    assert_eq!(
        site.db().scalar::<i64>("SELECT COUNT(*) FROM posts", &[]),
        1
    );
    // The live preview endpoint, as the editor's script calls it.
    let res = b
        .agent
        .post(&format!(
            "http://127.0.0.1:{}/admin/preview",
            site.server.port
        ))
        .set("X-CSRF-Token", &token)
        .send_form(&[("body", "# Title\n\n<script>x()</script>")])
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&res.into_string().unwrap()).unwrap();
    assert!(json["html"].as_str().unwrap().contains("<h1>Title</h1>"));
    assert!(!json["html"].as_str().unwrap().contains("<script"));

    // Scheduled a few seconds ahead, with new tags and a cover image.
    let at = carnet::ground::dates::now() + 8;
    let when = utc(at);
    let res = b.post_multipart(
        "/admin/posts/new",
        &[
            ("csrf_token", &token),
            ("title", "Scheduled thoughts"),
            ("slug", ""),
            ("body", "First paragraph with *style*."),
            ("tags", "Rust, Brand New Tag"),
            ("status", "published"),
            ("published_at", &when),
            ("comments_enabled", "1"),
            ("intent", "save"),
        ],
        ("cover", "cover.png", &png(900, 500)),
    );
    assert_eq!(res.status, 303, "{}", res.body);
    let edit_url = res.location.unwrap();
    let anon = Browser::new(site.server.port);
    assert_eq!(
        anon.get("/posts/scheduled-thoughts").status,
        404,
        "not before its time"
    );
    let list = b.get("/admin/posts?status=scheduled");
    assert!(list.body.contains("Scheduled thoughts"));
    let wait = at - carnet::ground::dates::now() + 1;
    std::thread::sleep(Duration::from_secs(wait.max(0) as u64));
    let page = anon.get("/posts/scheduled-thoughts");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<em>style</em>"));
    assert!(page.body.contains("class=\"cover\""), "cover image shown");
    assert!(anon
        .get("/tags/brand-new-tag")
        .body
        .contains("Scheduled thoughts"));

    // A long post (far beyond Rocket's default 8 KiB text-field limit) goes through.
    let long_body = "A long paragraph of text. ".repeat(4000);
    let res = b.post_multipart(
        "/admin/posts/new",
        &[
            ("csrf_token", &token),
            ("title", "Long read"),
            ("body", &long_body),
            ("status", "draft"),
        ],
        ("cover", "", b""),
    );
    assert_eq!(res.status, 303, "a 100 KB body is accepted");

    // Same title again: a numbered slug, never an error.
    let res = b.post_multipart(
        "/admin/posts/new",
        &[
            ("csrf_token", &token),
            ("title", "Scheduled thoughts"),
            ("body", "Again"),
            ("status", "draft"),
        ],
        ("cover", "", b""),
    );
    assert_eq!(res.status, 303);
    assert_eq!(
        site.db().scalar::<i64>(
            "SELECT COUNT(*) FROM posts WHERE slug = 'scheduled-thoughts-2'",
            &[]
        ),
        1
    );
    // An explicit slug that clashes is a clear error.
    let res = b.post_multipart(
        "/admin/posts/new",
        &[
            ("csrf_token", &token),
            ("title", "Other"),
            ("slug", "scheduled-thoughts"),
            ("body", "x"),
            ("status", "draft"),
        ],
        ("cover", "", b""),
    );
    assert_eq!(res.status, 422);
    assert!(res.body.contains("already uses this address"));

    // Edit.
    let form = b.get(&edit_url);
    assert!(form.body.contains("Brand New Tag"));
    let res = b.post_multipart(
        &edit_url,
        &[
            ("csrf_token", &token),
            ("title", "Renamed thoughts"),
            ("slug", "scheduled-thoughts"),
            ("body", "Changed."),
            ("tags", "Rust"),
            ("status", "published"),
            ("published_at", &when),
        ],
        ("cover", "", b""),
    );
    assert_eq!(res.status, 303, "{}", res.body);
    let page = anon.get("/posts/scheduled-thoughts");
    assert!(page.body.contains("Renamed thoughts") && page.body.contains("Changed."));
    assert!(page.body.contains("class=\"cover\""), "the cover is kept");

    // Delete, with a confirmation page first.
    let id = edit_url
        .trim_start_matches("/admin/posts/")
        .trim_end_matches("/edit");
    let confirm = b.get(&format!("/admin/posts/{id}/delete"));
    assert_eq!(confirm.status, 200);
    let res = b.post(
        &format!("/admin/posts/{id}/delete"),
        &[("csrf_token", &confirm.csrf())],
    );
    assert_eq!(res.status, 303);
    assert_eq!(anon.get("/posts/scheduled-thoughts").status, 404);
}

fn who_may_reach_the_admin() {
    let site = site("");
    let anon = Browser::new(site.server.port);
    let res = anon.get("/admin");
    assert_eq!(res.status, 303);
    assert_eq!(res.location.as_deref(), Some("/accounts/login?next=/admin"));
    assert_eq!(anon.get("/admin/posts/new").status, 303);
    let member = site.login("mo");
    for path in ["/admin", "/admin/posts", "/admin/media"] {
        assert_eq!(member.get(path).status, 403, "{path}");
    }
    // Authors reach their posts, not the rest.
    let al = site.login("al");
    assert_eq!(al.get("/admin").status, 200);
    assert_eq!(al.get("/admin/comments").status, 403);
    assert_eq!(al.get("/admin/users").status, 403);
    assert_eq!(
        site.login("ed").get("/admin/users").status,
        403,
        "users are for admins"
    );
    assert_eq!(site.login("root").get("/admin/users").status, 200);

    // An author cannot touch another author's post.
    let post_id: i64 = site
        .db()
        .scalar("SELECT id FROM posts WHERE slug = 'moderated'", &[]);
    let bo = site.login("bo");
    assert_eq!(bo.get(&format!("/admin/posts/{post_id}/edit")).status, 403);
    let token = bo.get("/admin").csrf();
    assert_eq!(
        bo.post(
            &format!("/admin/posts/{post_id}/delete"),
            &[("csrf_token", &token)]
        )
        .status,
        403
    );
    let res = bo.post_multipart(
        &format!("/admin/posts/{post_id}/edit"),
        &[
            ("csrf_token", &token),
            ("title", "Hijacked"),
            ("body", "x"),
            ("status", "draft"),
        ],
        ("cover", "", b""),
    );
    assert_eq!(res.status, 403);
    assert!(
        !bo.get("/admin/posts").body.contains("Moderated"),
        "authors list only their own posts"
    );
    assert_eq!(al.get(&format!("/admin/posts/{post_id}/edit")).status, 200);
}

fn uploads_are_checked_reencoded_and_resized() {
    let site = site("max_upload_bytes = 2000000");
    let b = site.login("ed");
    // EXIF/GPS stripped.
    let res = upload(&b, "holiday.jpg", &jpeg_with_gps());
    assert_eq!(res.status, 303, "{}", res.body);
    for name in site.media_files() {
        let bytes = std::fs::read(site.path().join("data/media").join(&name)).unwrap();
        let hay = String::from_utf8_lossy(&bytes);
        assert!(
            !hay.contains("GPS-SECRET-LOCATION") && !hay.contains("Exif"),
            "{name} keeps metadata"
        );
        // Public files: a proxy serving /media/ from disk can read them.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = site.path().join("data/media").join(&name);
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644, "{name}");
        }
    }
    let before = site.media_files();

    // Refusals leave nothing on disk.
    let res = upload(&b, "bomb.png", &png_bomb());
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("pixels"), "{}", res.body);
    let res = upload(&b, "notes.jpg", b"just some text, not a picture");
    assert_eq!(res.status, 415);
    assert!(res.body.contains("not a PNG, JPEG, WebP or GIF"));
    let res = upload(&b, "huge.png", &vec![7u8; 2_500_000]);
    assert_eq!(res.status, 413);
    assert_eq!(
        site.media_files(),
        before,
        "nothing left by refused uploads"
    );

    // A large image gets variants and a thumbnail, used as srcset in posts.
    let res = upload(&b, "wide.png", &png(1000, 400));
    assert_eq!(res.status, 303, "{}", res.body);
    let row = site.db().row(
        "SELECT file_name, variants FROM media WHERE original_name = 'wide.png'",
        &[],
    );
    let (file, variants): (String, String) = (row.get(0).unwrap(), row.get(1).unwrap());
    assert!(
        variants.contains("\"width\":400") && variants.contains("\"width\":800"),
        "{variants}"
    );
    let library = b.get("/admin/media");
    assert!(
        library.body.contains(&format!("![wide](/media/{file})")),
        "Markdown snippet"
    );
    assert!(library.body.contains("-thumb."), "thumbnails listed");
    let token = library.csrf();
    let res = b.post_multipart(
        "/admin/posts/new",
        &[
            ("csrf_token", &token),
            ("title", "With picture"),
            ("body", &format!("![wide](/media/{file})")),
            ("status", "published"),
        ],
        ("cover", "", b""),
    );
    assert_eq!(res.status, 303);
    let page = Browser::new(site.server.port).get("/posts/with-picture");
    assert!(page.body.contains("srcset=\"/media/"), "{}", page.body);
    assert!(page.body.contains(" 400w"));

    // Delete removes every file of the upload.
    let id: i64 = site.db().scalar(
        "SELECT id FROM media WHERE file_name = ?",
        carnet::params![&file],
    );
    let count = site.media_files().len();
    assert_eq!(
        b.post(
            &format!("/admin/media/{id}/delete"),
            &[("csrf_token", &token)]
        )
        .status,
        303
    );
    assert_eq!(
        site.media_files().len(),
        count - 4,
        "original, two variants, thumbnail"
    );
}

fn moderation_changes_what_the_post_shows() {
    let site = site("");
    let anon = Browser::new(site.server.port);
    let page = anon.get("/posts/moderated");
    assert!(page.body.contains("Approved words") && !page.body.contains("Pending words"));
    let b = site.login("ed");
    let queue = b.get("/admin/comments");
    assert!(queue.body.contains("Pending words"));
    let token = queue.csrf();
    let id = |body: &str| -> i64 {
        site.db().scalar(
            "SELECT id FROM comments WHERE body = ?",
            carnet::params![body],
        )
    };
    let (pending, approved) = (id("Pending words"), id("Approved words"));
    assert_eq!(
        b.post(
            &format!("/admin/comments/{pending}/approve"),
            &[("csrf_token", &token)]
        )
        .status,
        303
    );
    assert!(anon.get("/posts/moderated").body.contains("Pending words"));
    assert_eq!(
        b.post(
            &format!("/admin/comments/{approved}/spam"),
            &[("csrf_token", &token)]
        )
        .status,
        303
    );
    assert!(!anon.get("/posts/moderated").body.contains("Approved words"));
    assert!(b
        .get("/admin/comments?status=spam")
        .body
        .contains("Approved words"));
    // Bulk, then empty the spam folder.
    let p = pending.to_string();
    let res = b.post(
        "/admin/comments/bulk",
        &[("csrf_token", &token), ("action", "spam"), ("ids", &p)],
    );
    assert_eq!(res.status, 303);
    assert!(!anon.get("/posts/moderated").body.contains("Pending words"));
    assert_eq!(
        b.post("/admin/comments/spam/empty", &[("csrf_token", &token)])
            .status,
        303
    );
    assert_eq!(
        site.db()
            .scalar::<i64>("SELECT COUNT(*) FROM comments", &[]),
        0
    );
}

fn admins_manage_settings_and_users() {
    let site = site("");
    let root = site.login("root");
    let token = root.get("/admin/settings").csrf();
    let res = root.post(
        "/admin/settings",
        &[
            ("csrf_token", &token),
            ("site_title", "My Garden Notes"),
            ("site_description", "Green things"),
            ("comments", "members"),
            ("registration", "closed"),
            ("posts_per_page", "5"),
        ],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    let anon = Browser::new(site.server.port);
    assert!(anon.get("/").body.contains("My Garden Notes"));
    assert_eq!(
        anon.get("/accounts/signup").status,
        404,
        "registration closed from the admin"
    );
    let res = root.post(
        "/admin/settings",
        &[
            ("csrf_token", &token),
            ("site_title", ""),
            ("comments", "x"),
            ("registration", "open"),
            ("posts_per_page", "0"),
        ],
    );
    assert_eq!(res.status, 422);

    // Deactivating a user ends their sessions; roles change.
    let al = site.login("al");
    assert_eq!(al.get("/admin").status, 200);
    let al_id: i64 = site
        .db()
        .scalar("SELECT id FROM users WHERE username = 'al'", &[]);
    assert_eq!(
        root.post(
            &format!("/admin/users/{al_id}/active"),
            &[("csrf_token", &token), ("active", "false")]
        )
        .status,
        303
    );
    assert_eq!(al.get("/admin").status, 303, "signed out");
    let res = Browser::new(site.server.port).submit(
        "/accounts/login",
        "/accounts/login",
        &[("username", "al"), ("password", PASSWORD)],
    );
    assert_ne!(res.status, 303, "a deactivated account cannot log in");
    let mo_id: i64 = site
        .db()
        .scalar("SELECT id FROM users WHERE username = 'mo'", &[]);
    assert_eq!(
        root.post(
            &format!("/admin/users/{mo_id}/role"),
            &[("csrf_token", &token), ("role", "editor")]
        )
        .status,
        303
    );
    assert_eq!(site.login("mo").get("/admin/comments").status, 200);
    // The last admin cannot demote themselves.
    let root_id: i64 = site
        .db()
        .scalar("SELECT id FROM users WHERE username = 'root'", &[]);
    root.post(
        &format!("/admin/users/{root_id}/role"),
        &[("csrf_token", &token), ("role", "member")],
    );
    let role: String = site.db().scalar(
        "SELECT role FROM users WHERE id = ?",
        carnet::params![root_id],
    );
    assert_eq!(role, "admin");
    // Resending a confirmation queues a mail with a fresh link (log transport: the outbox).
    site.db().exec(
        "UPDATE users SET email_confirmed = 0 WHERE username = 'bo'",
        &[],
    );
    let bo_id: i64 = site
        .db()
        .scalar("SELECT id FROM users WHERE username = 'bo'", &[]);
    assert_eq!(
        root.post(
            &format!("/admin/users/{bo_id}/resend"),
            &[("csrf_token", &token)]
        )
        .status,
        303
    );
    let outbox = site.path().join("data/outbox");
    let started = std::time::Instant::now();
    loop {
        let found = std::fs::read_dir(&outbox)
            .into_iter()
            .flatten()
            .flatten()
            .any(|f| {
                std::fs::read_to_string(f.path())
                    .is_ok_and(|t| t.contains("bo@example.org") && t.contains("/accounts/confirm/"))
            });
        if found {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no confirmation mail in the outbox"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The mail queue page shows what was sent.
    assert_eq!(root.get("/admin/mail").status, 200);
    assert_eq!(root.get("/admin").status, 200);
}

/// Two requests writing the same unique value (a tag, a slug, a username) at
/// once: the database refuses the second, and on every backend that refusal is
/// a 409 asking to send again, not a 500.
fn a_duplicate_unique_value_is_a_conflict() {
    let site = site("");
    let db = site.db();
    let mut c = db.0.conn().unwrap();
    let insert = "INSERT INTO tags (name, slug) VALUES (?, ?)";
    c.execute(insert, carnet::params!["Twice", "twice"])
        .unwrap();
    let again = c.execute(insert, carnet::params!["Twice again", "twice"]);
    match again {
        Err(e @ carnet::error::Error::Conflict(_)) => assert_eq!(e.status().code, 409),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

backend_tests!(
    an_editor_writes_previews_schedules_edits_and_deletes_a_post,
    who_may_reach_the_admin,
    uploads_are_checked_reencoded_and_resized,
    moderation_changes_what_the_post_shows,
    admins_manage_settings_and_users,
    a_duplicate_unique_value_is_a_conflict,
);
