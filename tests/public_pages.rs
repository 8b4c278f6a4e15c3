//! The public blog pages, driven through the app with a real SQLite file.

mod common;

use carnet::params;
use common::{get, TestApp};
use rocket::http::{Header, Status};

fn home_lists_published_posts_with_author_tags_and_comment_counts() {
    let app = TestApp::with_fixture();
    let client = app.client();
    let (status, body) = get(&client, "/");
    assert_eq!(status, 200);
    assert!(body.contains("Spring planting"));
    assert!(body.contains("Borrowing in Rust"));
    // Newest first.
    assert!(body.find("Borrowing in Rust") < body.find("Spring planting"));
    assert!(!body.contains("Secret draft"), "drafts are hidden");
    assert!(!body.contains("Future post"), "scheduled posts are hidden");
    assert!(body.contains("Alice Martin"));
    assert!(body.contains("href=\"/authors/bob\""));
    assert!(body.contains("href=\"/tags/gardening\""));
    // Four approved comments on the spring post; spam and pending ones not counted.
    assert!(body.contains("4 comments"), "{body}");
    assert!(
        body.contains("Plant tomatoes after the last frost"),
        "excerpt shown"
    );
}

fn post_page_shows_sanitized_body_and_threaded_approved_comments() {
    let app = TestApp::with_fixture();
    let client = app.client();
    let (status, body) = get(&client, "/posts/spring-planting");
    assert_eq!(status, 200);
    assert!(body.contains("<strong>tomatoes</strong>"));
    assert!(body.contains("<table>"));
    assert!(body.contains("footnote-definition"));
    assert!(!body.contains("<script>alert"), "raw script removed");
    assert!(body.contains("Great tips!"));
    assert!(!body.contains("Buy cheap pills"), "spam hidden");
    assert!(!body.contains("Pending moderation"), "pending hidden");
    // The reply is rendered inside its parent's element.
    let parent = body.find("Great tips!").unwrap();
    let reply = body.find("Thanks <strong>Dana</strong>!").unwrap();
    let parent_close = body[parent..].find("</article>").unwrap() + parent;
    assert!(
        reply > parent && reply < parent_close,
        "reply nested in its parent"
    );
    // A reply listed before its parent in the import still nests under it.
    let frank = body.find("When is the last frost?").unwrap();
    let eve = body.find("Reply before its parent in the file.").unwrap();
    assert!(eve > frank && eve < body[frank..].find("</article>").unwrap() + frank);
    assert!(body.contains(
        r#"<link rel="canonical" href="https://blog.example.com/posts/spring-planting">"#
    ));
    assert!(body.contains(r#"property="og:type" content="article""#));
}

fn comment_xss_is_inert() {
    let app = TestApp::with_fixture();
    let (_, body) = get(&app.client(), "/posts/borrowing-in-rust");
    assert!(!body.contains("<img src=x"), "{body}");
    assert!(!body.contains("onerror=alert(1)>"), "{body}");
    assert!(!body.contains("href=\"javascript:"), "{body}");
    assert!(body.contains(r#"<code class="language-rust">"#));
}

fn drafts_and_scheduled_posts_are_404_and_a_scheduled_post_appears_on_time() {
    let app = TestApp::with_fixture();
    let client = app.client();
    assert_eq!(get(&client, "/posts/secret-draft").0, 404);
    assert_eq!(get(&client, "/posts/future-post").0, 404);
    assert_eq!(get(&client, "/posts/no-such-post").0, 404);
    // Schedule the future post two seconds from now: it appears without a restart.
    let soon = carnet::ground::dates::now() + 2;
    app.sql(
        "UPDATE posts SET published_at = ? WHERE slug = 'future-post'",
        params![soon],
    );
    assert_eq!(get(&client, "/posts/future-post").0, 404);
    std::thread::sleep(std::time::Duration::from_millis(3100));
    assert_eq!(get(&client, "/posts/future-post").0, 200);
    assert!(get(&client, "/").1.contains("Future post"));
}

fn tags_authors_archive_and_pages() {
    let app = TestApp::with_fixture();
    let client = app.client();

    let (status, body) = get(&client, "/tags");
    assert_eq!(status, 200);
    assert!(body.contains("Gardening") && body.contains("Rust"));
    assert!(
        !body.contains("Unused"),
        "tags without public posts are not in the cloud"
    );

    let (status, body) = get(&client, "/tags/rust");
    assert_eq!(status, 200);
    assert!(body.contains("Borrowing in Rust"));
    assert!(!body.contains("Spring planting") && !body.contains("Secret draft"));
    assert_eq!(get(&client, "/tags/nope").0, 404);

    let (status, body) = get(&client, "/authors/alice");
    assert_eq!(status, 200);
    assert!(body.contains("Alice Martin") && body.contains("Writes about gardens."));
    assert!(body.contains("Spring planting") && !body.contains("Borrowing in Rust"));
    assert_eq!(get(&client, "/authors/bob").0, 200);
    assert_eq!(
        get(&client, "/authors/carol").0,
        404,
        "members have no public page"
    );
    assert_eq!(get(&client, "/authors/nobody").0, 404);

    let (status, body) = get(&client, "/archive");
    assert_eq!(status, 200);
    assert!(body.contains("2025") && body.contains("June") && body.contains("April"));
    assert!(body.contains("/posts/spring-planting"));
    assert!(!body.contains("Secret draft"));

    let (status, body) = get(&client, "/pages/about");
    assert_eq!(status, 200);
    assert!(body.contains("<em>gardens</em>"));
    assert!(
        get(&client, "/").1.contains(r#"href="/pages/about""#),
        "pages in the navigation"
    );
    assert_eq!(get(&client, "/pages/missing").0, 404);
}

fn pagination_is_ten_per_page_and_404_past_the_end() {
    let app = TestApp::with_fixture();
    let mut posts = Vec::new();
    for i in 0..23 {
        posts.push(format!(
            r#"{{"title": "Bulk post {i:02}", "slug": "bulk-{i}", "status": "published",
                "published_at": "2020-01-{:02}T00:00:00Z", "author": "alice", "tags": ["bulk"]}}"#,
            i + 1
        ));
    }
    let json = format!(
        r#"{{"format": "carnet", "version": 1, "posts": [{}]}}"#,
        posts.join(",")
    );
    app.import(&json).unwrap();
    let client = app.client();
    // 25 public posts: pages 1..=3.
    let (_, first) = get(&client, "/");
    assert_eq!(first.matches("class=\"summary\"").count(), 10);
    assert!(first.contains("href=\"/?page=2\""));
    let (status, third) = get(&client, "/?page=3");
    assert_eq!(status, 200);
    assert_eq!(third.matches("class=\"summary\"").count(), 5);
    assert_eq!(get(&client, "/?page=4").0, 404);
    assert_eq!(get(&client, "/?page=0").0, 404);
    assert_eq!(get(&client, "/?page=abc").0, 404);
    assert_eq!(get(&client, "/tags/bulk?page=3").0, 200);
    assert_eq!(get(&client, "/tags/bulk?page=4").0, 404);
    assert_eq!(get(&client, "/archive?page=3").0, 200);
    assert_eq!(get(&client, "/archive?page=4").0, 404);
    assert_eq!(get(&client, "/authors/alice?page=3").0, 200);
    assert_eq!(get(&client, "/authors/alice?page=4").0, 404);
    assert_eq!(get(&client, "/tags?page=2").0, 404);
}

fn empty_blog_has_a_home_page() {
    let app = TestApp::new();
    let (status, body) = get(&app.client(), "/");
    assert_eq!(status, 200);
    assert!(body.contains("No posts yet"));
}

fn every_page_is_accessible_and_carries_security_headers() {
    let app = TestApp::with_fixture();
    let client = app.client();
    for uri in [
        "/",
        "/posts/spring-planting",
        "/tags",
        "/tags/rust",
        "/authors/alice",
        "/archive",
        "/pages/about",
        "/nowhere",
    ] {
        let res = client.get(uri).dispatch();
        let h = res.headers();
        let csp = h
            .get_one("Content-Security-Policy")
            .unwrap_or_default()
            .to_owned();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{uri}: {csp}"
        );
        assert_eq!(
            h.get_one("X-Content-Type-Options"),
            Some("nosniff"),
            "{uri}"
        );
        assert!(h.get_one("Referrer-Policy").is_some(), "{uri}");
        let body = res.into_string().unwrap();
        assert!(body.contains("<html lang=\"en\">"), "{uri}");
        assert!(body.contains("name=\"viewport\""), "{uri}");
        assert!(
            body.contains("<link rel=\"stylesheet\" href=\"/static/style."),
            "{uri}"
        );
        for img in body.split("<img").skip(1) {
            assert!(
                img.split('>').next().unwrap().contains("alt="),
                "{uri}: image without alt"
            );
        }
    }
}

fn missing_pages_get_the_styled_404() {
    let app = TestApp::new();
    let client = app.client();
    let res = client.get("/no/such/page").dispatch();
    assert_eq!(res.status(), Status::NotFound);
    assert_eq!(res.content_type(), Some(rocket::http::ContentType::HTML));
    let body = res.into_string().unwrap();
    assert!(body.contains("Not Found") && body.contains("/static/style."));
}

fn static_assets_are_fingerprinted_and_cached_forever() {
    let app = TestApp::new();
    let client = app.client();
    let url = carnet::web::assets::url("style.css");
    let res = client.get(url.clone()).dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        res.headers().get_one("Cache-Control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(res.content_type(), Some(rocket::http::ContentType::CSS));
    let etag = res.headers().get_one("ETag").unwrap().to_owned();
    let res = client
        .get(url)
        .header(Header::new("If-None-Match", etag))
        .dispatch();
    assert_eq!(res.status(), Status::NotModified);
    // The unversioned name works but must be revalidated.
    let res = client.get("/static/style.css").dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert!(res
        .headers()
        .get_one("Cache-Control")
        .unwrap()
        .contains("max-age=0"));
    assert_eq!(
        client.get("/static/../Cargo.toml").dispatch().status(),
        Status::NotFound
    );
    assert_eq!(
        client.get("/static/%2e%2e/Cargo.toml").dispatch().status(),
        Status::NotFound
    );
    assert_eq!(
        client.get("/static/nope.css").dispatch().status(),
        Status::NotFound
    );
}

fn healthz_answers_ok() {
    let app = TestApp::new();
    let client = app.client();
    let res = client.get("/healthz").dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.content_type(), Some(rocket::http::ContentType::Plain));
    assert_eq!(res.into_string().unwrap(), "ok");
}

fn a_template_in_the_data_folder_overrides_the_embedded_one() {
    let app = TestApp::with_fixture();
    let dir = app.data_dir().join("templates/blog");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("page.html"),
        "{% extends \"base.html\" %}{% block content %}<p>CUSTOM {{ page.title }}</p>{% endblock content %}",
    )
    .unwrap();
    let (status, body) = get(&app.client(), "/pages/about");
    assert_eq!(status, 200);
    assert!(body.contains("<p>CUSTOM About</p>"), "{body}");
}

fn home_page_html_and_css_stay_small() {
    let app = TestApp::with_fixture();
    let client = app.client();
    let html = get(&client, "/").1.len();
    let css = get(&client, &carnet::web::assets::url("style.css")).1.len();
    assert!(html + css < 50 * 1024, "home {html} B + css {css} B");
}

fn media_files_are_served_without_listing_or_traversal() {
    let app = TestApp::new();
    let media = app.data_dir().join("media");
    // A 1x1 PNG.
    let png: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0,
        0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89, 0, 0, 0, 0x0A, 0x49, 0x44,
        0x41, 0x54, 0x78, 0x9C, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0D, 0x0A, 0x2D, 0xB4, 0, 0, 0, 0,
        0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    std::fs::write(media.join("dot.png"), png).unwrap();
    std::fs::write(media.join(".hidden"), "secret").unwrap();
    let client = app.client();
    let res = client.get("/media/dot.png").dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.content_type(), Some(rocket::http::ContentType::PNG));
    assert_eq!(
        res.headers().get_one("X-Content-Type-Options"),
        Some("nosniff")
    );
    assert_eq!(client.get("/media/").dispatch().status(), Status::NotFound);
    assert_eq!(
        client.get("/media/.hidden").dispatch().status(),
        Status::NotFound
    );
    assert_eq!(
        client.get("/media/../secret_key").dispatch().status(),
        Status::NotFound
    );
    assert_eq!(
        client.get("/media/%2e%2e/secret_key").dispatch().status(),
        Status::NotFound
    );
}

backend_tests!(
    home_lists_published_posts_with_author_tags_and_comment_counts,
    post_page_shows_sanitized_body_and_threaded_approved_comments,
    comment_xss_is_inert,
    drafts_and_scheduled_posts_are_404_and_a_scheduled_post_appears_on_time,
    tags_authors_archive_and_pages,
    pagination_is_ten_per_page_and_404_past_the_end,
    empty_blog_has_a_home_page,
    every_page_is_accessible_and_carries_security_headers,
    missing_pages_get_the_styled_404,
    static_assets_are_fingerprinted_and_cached_forever,
    healthz_answers_ok,
    a_template_in_the_data_folder_overrides_the_embedded_one,
    home_page_html_and_css_stay_small,
    media_files_are_served_without_listing_or_traversal,
);
