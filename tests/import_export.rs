//! Import and export through the library: validation with JSON paths, one
//! transaction, idempotence, round trip, and speed figures (printed, not asserted).

mod common;

use common::{TestApp, FIXTURE};

fn counts(app: &TestApp) -> [i64; 6] {
    [
        app.count("SELECT COUNT(*) FROM users"),
        app.count("SELECT COUNT(*) FROM tags"),
        app.count("SELECT COUNT(*) FROM posts"),
        app.count("SELECT COUNT(*) FROM pages"),
        app.count("SELECT COUNT(*) FROM comments"),
        app.count("SELECT COUNT(*) FROM post_tags"),
    ]
}

fn import_loads_everything_and_is_idempotent() {
    let app = TestApp::with_fixture();
    let first = counts(&app);
    assert_eq!(first, [3, 3, 4, 1, 7, 5]);
    let report = app.import(FIXTURE).unwrap();
    assert_eq!(report.comments, 7);
    assert_eq!(counts(&app), first, "a second import changes nothing");
    // Rendered once on import, stored.
    let html: String = app
        .db
        .conn()
        .unwrap()
        .query_scalar(
            "SELECT body_html FROM posts WHERE slug = 'spring-planting'",
            &[],
        )
        .unwrap();
    assert!(html.contains("<strong>tomatoes</strong>") && !html.contains("<script"));
}

fn rejected(json: &str, expected_path: &str) {
    let app = TestApp::new();
    let err = app.import(json).expect_err("must be rejected").to_string();
    assert!(
        err.starts_with(expected_path),
        "expected {expected_path}, got: {err}"
    );
    assert_eq!(counts(&app), [0; 6], "nothing written for {expected_path}");
}

fn bad_files_name_the_first_problem_and_write_nothing() {
    // Type and syntax problems come from the parser, with their path.
    rejected(
        r#"{"format": "carnet", "version": 1, "posts": [{"slug": "x", "author": "a"}]}"#,
        "posts[0]",
    );
    rejected(
        r#"{"format": "carnet", "version": 1, "users": [{"username": 3, "email": "a@b.co"}]}"#,
        "users[0].username",
    );
    rejected(r#"{"format": "wordpress", "version": 1}"#, "format");
    rejected(r#"{"format": "carnet", "version": 2}"#, "version");
    rejected("not json", "(document)");
    // Problems found after parsing: the earlier records would be valid, yet nothing is kept.
    let fixture: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    let mut bad = fixture.clone();
    bad["posts"][3]["title"] = "".into();
    rejected(&bad.to_string(), "posts[3].title");
    let mut bad = fixture.clone();
    bad["posts"][1]["author"] = "nobody".into();
    rejected(&bad.to_string(), "posts[1].author");
    let mut bad = fixture.clone();
    bad["comments"][6]["post"] = "missing-post".into();
    rejected(&bad.to_string(), "comments[6].post");
    let mut bad = fixture.clone();
    bad["comments"][2]["parent"] = 99.into();
    rejected(&bad.to_string(), "comments[2].parent");
    let mut bad = fixture.clone();
    bad["users"][1]["email"] = "not-an-address".into();
    rejected(&bad.to_string(), "users[1].email");
    let mut bad = fixture.clone();
    bad["posts"][0]["published_at"] = "last tuesday".into();
    rejected(&bad.to_string(), "posts[0].published_at");
    let mut bad = fixture;
    bad["posts"][2]["slug"] = "spring-planting".into();
    rejected(&bad.to_string(), "posts[2].slug");
}

fn export(app: &TestApp) -> serde_json::Value {
    serde_json::to_value(carnet::transfer::export(&mut app.db.conn().unwrap()).unwrap()).unwrap()
}

/// The documented way to move a site from SQLite to PostgreSQL or MySQL, and
/// back: `carnet export` on one, `carnet import` on the other.
fn a_site_moves_between_backends_unchanged() {
    let sqlite = TestApp::on_sqlite();
    sqlite.import(FIXTURE).unwrap();
    let original = export(&sqlite);
    // Onto the backend under test…
    let server = TestApp::new();
    server.import(&original.to_string()).unwrap();
    assert_eq!(counts(&server), counts(&sqlite));
    assert_eq!(export(&server), original);
    // …which serves it…
    let client = server.client();
    let (status, body) = common::get(&client, "/posts/spring-planting");
    assert_eq!(status, 200);
    assert!(body.contains("<strong>tomatoes</strong>"));
    let (_, found) = common::get(&client, "/search?q=tomatoes");
    assert!(found.contains("/posts/spring-planting"));
    // …and back to a new SQLite site.
    let back = TestApp::on_sqlite();
    back.import(&export(&server).to_string()).unwrap();
    assert_eq!(export(&back), original);
}

fn export_round_trips() {
    let app = TestApp::with_fixture();
    let exported = carnet::transfer::export(&mut app.db.conn().unwrap()).unwrap();
    let json = serde_json::to_string(&exported).unwrap();
    // Every key of the format is present.
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    for key in [
        "format", "version", "users", "tags", "posts", "pages", "comments",
    ] {
        assert!(value.get(key).is_some(), "{key}");
    }
    for key in [
        "username",
        "email",
        "display_name",
        "role",
        "password_hash",
        "created_at",
    ] {
        assert!(value["users"][0].get(key).is_some(), "users.{key}");
    }
    for key in [
        "title",
        "slug",
        "body_markdown",
        "status",
        "published_at",
        "author",
        "tags",
    ] {
        assert!(value["posts"][0].get(key).is_some(), "posts.{key}");
    }
    for key in [
        "id",
        "post",
        "parent",
        "author_name",
        "author_email",
        "body",
        "status",
        "created_at",
    ] {
        assert!(value["comments"][0].get(key).is_some(), "comments.{key}");
    }
    let other = TestApp::new();
    other.import(&json).unwrap();
    assert_eq!(counts(&other), counts(&app));
    let again = carnet::transfer::export(&mut other.db.conn().unwrap()).unwrap();
    assert_eq!(
        serde_json::to_value(&again).unwrap(),
        value,
        "export → import → export is stable"
    );
    // Importing the export back into the source changes nothing either.
    app.import(&json).unwrap();
    assert_eq!(counts(&app), counts(&other));
}

fn ten_thousand_comments_import_in_one_transaction() {
    let app = TestApp::with_fixture();
    let mut comments = Vec::with_capacity(10_000);
    for i in 0..10_000 {
        let parent = if i % 3 == 2 {
            format!("{}", i - 1)
        } else {
            "null".into()
        };
        comments.push(format!(
            r#"{{"id": {i}, "post": "spring-planting", "parent": {parent}, "author_name": "Reader {i}",
                "author_email": "r{i}@example.net", "body": "Comment number {i} with *some* text.",
                "status": "approved", "created_at": "2025-05-01T00:00:00Z"}}"#
        ));
    }
    let json = format!(
        r#"{{"format": "carnet", "version": 1, "comments": [{}]}}"#,
        comments.join(",")
    );
    let started = std::time::Instant::now();
    let report = app.import(&json).unwrap();
    let elapsed = started.elapsed();
    println!(
        "imported 10,000 comments in {:.0} ms (debug build)",
        elapsed.as_secs_f64() * 1000.0
    );
    assert_eq!(report.comments, 10_000);
    assert_eq!(app.count("SELECT COUNT(*) FROM comments"), 10_007);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM comments WHERE parent_id IS NOT NULL"),
        2 + 3_333
    );
}

/// A site that uses every feature, written as export writes it: importing it
/// into an empty site and exporting gives back the same document, field for
/// field (so nothing a site holds is lost on a move).
fn every_feature_survives_export_and_import() {
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$2kEtNlxbMbpPOp2IbCKdyA$dCgNtu2u6xlUZCzzdD3q+Cdj2IadyxZMnszQt24UkUs";
    let doc = serde_json::json!({
        "format": "carnet", "version": 1,
        "users": [
            {"username": "ada", "email": "ada@example.org", "display_name": "Ada L.", "bio": "Writes *notes*.",
             "avatar": "avatars/abcdef.png", "role": "admin", "password_hash": hash, "is_active": true,
             "email_confirmed": true, "created_at": "2024-05-06T07:08:09Z", "updated_at": "2024-06-07T08:09:10Z"},
            {"username": "ed", "email": "ed@example.org", "display_name": "", "bio": "", "avatar": null,
             "role": "editor", "password_hash": null, "is_active": false, "email_confirmed": false,
             "created_at": "2024-05-06T07:08:10Z", "updated_at": "2024-05-06T07:08:10Z"},
            {"username": "mia", "email": "mia@example.org", "display_name": "Mia", "bio": "Reader.", "avatar": null,
             "role": "member", "password_hash": null, "is_active": true, "email_confirmed": true,
             "created_at": "2024-05-06T07:08:11Z", "updated_at": "2024-05-06T07:08:11Z"}
        ],
        "tags": [{"name": "Garden", "slug": "garden"}, {"name": "Rust lang", "slug": "rust"}],
        "posts": [
            {"title": "Seconds count", "slug": "seconds-count", "body_markdown": "Body with ![a](/media/photo.jpg)",
             "status": "published", "published_at": "2025-03-04T05:06:07Z", "author": "ada", "tags": ["garden", "rust"],
             "excerpt": "A custom excerpt.", "cover_image": "photo.jpg", "comments_enabled": false,
             "created_at": "2025-03-01T00:00:01Z", "updated_at": "2025-03-05T00:00:02Z"},
            {"title": "Later", "slug": "later", "body_markdown": "Scheduled.", "status": "published",
             "published_at": "2099-01-02T03:04:05Z", "author": "ed", "tags": [], "excerpt": null,
             "cover_image": null, "comments_enabled": true,
             "created_at": "2025-03-02T00:00:00Z", "updated_at": "2025-03-02T00:00:00Z"},
            {"title": "Draft", "slug": "draft", "body_markdown": "", "status": "draft", "published_at": null,
             "author": "ada", "tags": ["rust"], "excerpt": null, "cover_image": null, "comments_enabled": true,
             "created_at": "2025-03-03T00:00:00Z", "updated_at": "2025-03-03T00:00:00Z"}
        ],
        "pages": [
            {"title": "About", "slug": "about", "body_markdown": "Hi.", "status": "published", "show_in_nav": true,
             "nav_order": 2, "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-02T00:00:00Z"},
            {"title": "Hidden", "slug": "hidden", "body_markdown": "Not linked.", "status": "published",
             "show_in_nav": false, "nav_order": 0, "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"},
            {"title": "Unfinished", "slug": "unfinished", "body_markdown": "Soon.", "status": "draft",
             "show_in_nav": true, "nav_order": 1, "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"}
        ],
        "comments": [
            {"id": 1, "post": "seconds-count", "parent": null, "user": null, "author_name": "Visitor",
             "author_email": "v@example.net", "body": "First!", "status": "approved", "created_at": "2025-03-04T06:00:00Z",
             "ip": "203.0.113.9", "notify_replies": true, "unsubscribe_hash": "aa11"},
            {"id": 2, "post": "seconds-count", "parent": 1, "user": "mia", "author_name": "Mia",
             "author_email": "mia@example.org", "body": "A reply.", "status": "approved",
             "created_at": "2025-03-04T06:30:00Z", "ip": null, "notify_replies": false, "unsubscribe_hash": null},
            {"id": 3, "post": "seconds-count", "parent": 2, "user": null, "author_name": "Spammer",
             "author_email": "s@example.net", "body": "cheap pills", "status": "spam",
             "created_at": "2025-03-04T07:00:00Z", "ip": "198.51.100.1", "notify_replies": false, "unsubscribe_hash": null},
            {"id": 4, "post": "seconds-count", "parent": null, "user": null, "author_name": "Shy",
             "author_email": "", "body": "Waiting.", "status": "pending",
             "created_at": "2025-03-04T08:00:00Z", "ip": null, "notify_replies": false, "unsubscribe_hash": null}
        ],
        "media": [
            {"file_name": "photo.jpg", "original_name": "IMG_0001.JPG", "mime": "image/jpeg", "size_bytes": 12345,
             "width": 1600, "height": 1200, "thumb": "photo-thumb.jpg",
             "variants": [{"width": 400, "file": "photo-400.webp"}, {"width": 800, "file": "photo-800.jpg"}],
             "uploader": "ada", "created_at": "2025-03-01T00:00:00Z"}
        ],
        "settings": {"comments": "members", "site_title": "Ada's notes", "posts_per_page": "7"}
    });
    let app = TestApp::new();
    app.import(&doc.to_string()).unwrap();
    assert_eq!(
        export(&app),
        doc,
        "export → import → export keeps every field"
    );
    // Imported again, nothing changes (idempotent), and what readers see follows.
    app.import(&doc.to_string()).unwrap();
    assert_eq!(export(&app), doc);
    let client = app.client();
    let (_, home) = common::get(&client, "/");
    assert!(home.contains("Ada&#x27;s notes") || home.contains("Ada's notes"));
    assert!(home.contains("href=\"/pages/about\""));
    assert!(!home.contains("href=\"/pages/hidden\"") && !home.contains("/pages/unfinished"));
    assert_eq!(common::get(&client, "/pages/unfinished").0, 404);
}

backend_tests!(
    every_feature_survives_export_and_import,
    a_site_moves_between_backends_unchanged,
    import_loads_everything_and_is_idempotent,
    bad_files_name_the_first_problem_and_write_nothing,
    export_round_trips,
    ten_thousand_comments_import_in_one_transaction,
);
