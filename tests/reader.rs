//! The reader's side end to end: comments (with mail to a real SMTP receiver),
//! feeds checked by real parsers, the sitemap, conditional GET, search.

mod common;

use std::path::Path;
use std::time::Duration;

use common::server::{Browser, Page};
use common::site::Site;
use common::FIXTURE;

const WAIT: Duration = Duration::from_secs(20);
const PASSWORD: &str = "correct horse battery";

/// The fixture site, with passwords for alice (admin) and bob (author), mail to a receiver.
fn site(extra: &str) -> Site {
    let timer = if extra.contains("comment_min_seconds") {
        ""
    } else {
        "comment_min_seconds = 0\n"
    };
    Site::start(&format!("{timer}{extra}"), import_fixture)
}

fn import_fixture(dir: &Path) {
    let mut fixture: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    let hash = carnet::users::password::hash(PASSWORD).unwrap();
    for user in fixture["users"].as_array_mut().unwrap() {
        user["password_hash"] = hash.clone().into();
    }
    std::fs::write(dir.join("site.json"), fixture.to_string()).unwrap();
    assert!(common::server::run(dir, &["import", "site.json"])
        .status
        .success());
}

fn comment(b: &Browser, slug: &str, fields: &[(&str, &str)]) -> Page {
    let path = format!("/posts/{slug}");
    b.submit(&path, &format!("{path}/comments"), fields)
}

fn login(site: &Site, username: &str) -> Browser {
    let b = site.browser();
    let res = b.submit(
        "/accounts/login",
        "/accounts/login",
        &[("username", username), ("password", PASSWORD)],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    b
}

fn anonymous_comments_wait_for_moderation_and_members_publish_at_once() {
    // Every attempt counts toward the limit, errors included: room for this test's.
    let site = site("rate_comments_per_minute = 20");
    let anon = site.browser();
    let page = anon.get("/posts/borrowing-in-rust");
    assert!(page.body.contains("Leave a comment") && page.body.contains("name=\"author_email\""));
    let res = comment(
        &anon,
        "borrowing-in-rust",
        &[
            ("author_name", "Nina"),
            ("author_email", "nina@example.net"),
            ("body", "First *visit*!"),
        ],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    let location = res.location.unwrap();
    assert!(
        location.starts_with("/posts/borrowing-in-rust#comment-"),
        "{location}"
    );
    assert!(
        !site
            .browser()
            .get("/posts/borrowing-in-rust")
            .body
            .contains("First <em>visit</em>!"),
        "held for moderation: not public"
    );
    // Its writer sees it where they wrote it, marked, with the outcome next
    // to the form (not at the top of the page).
    let own = anon.get("/posts/borrowing-in-rust").body;
    let pending_id = location.rsplit("#comment-").next().unwrap();
    let shown = own
        .find(&format!("id=\"comment-{pending_id}\""))
        .expect("the pending comment is on its writer's page");
    let told = own
        .find("Your comment is awaiting moderation")
        .expect("told");
    let form = own.find("id=\"leave-a-comment\"").unwrap();
    assert!(shown < told && told < form, "outcome next to the form");
    assert!(own.contains("First <em>visit</em>!") && own.contains("Awaiting moderation"));
    assert!(
        !own[..shown].contains("class=\"flash"),
        "no message at the top of the page"
    );
    assert_eq!(site.count("SELECT COUNT(*) FROM comments WHERE author_email = 'nina@example.net' AND status = 'pending'"), 1);
    // The post's author and the admin are told, with a link to the queue.
    let mail = site.smtp.last_to("bob@example.org", WAIT);
    assert!(mail.text().contains("/admin/comments"), "{}", mail.text());
    site.smtp.last_to("alice@example.org", WAIT);

    // An address with an approved comment is trusted next time.
    let res = comment(
        &anon,
        "borrowing-in-rust",
        &[
            ("author_name", "Dana"),
            ("author_email", "dana@example.net"),
            ("body", "Back again"),
        ],
    );
    assert_eq!(res.status, 303);
    assert!(res.location.unwrap().contains("#comment-"));
    assert!(anon
        .get("/posts/borrowing-in-rust")
        .body
        .contains("Back again"));

    // Typing a member's address does not skip moderation (the fixture has an
    // approved comment under alice's address), and alice still gets the mail.
    let res = comment(
        &anon,
        "borrowing-in-rust",
        &[
            ("author_name", "Mallory"),
            ("author_email", "alice@example.org"),
            ("body", "Impostor words"),
        ],
    );
    assert_eq!(res.status, 303);
    assert!(!site
        .browser()
        .get("/posts/borrowing-in-rust")
        .body
        .contains("Impostor words"));
    assert_eq!(
        site.count(
            "SELECT COUNT(*) FROM comments WHERE body = 'Impostor words' AND status = 'pending'"
        ),
        1
    );
    let started = std::time::Instant::now();
    while !site.smtp.messages().iter().any(|m| {
        m.to.contains(&"alice@example.org".to_owned()) && m.text().contains("Impostor words")
    }) {
        assert!(
            started.elapsed() < WAIT,
            "alice is told about the comment under her address"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // A logged-in, confirmed member is published at once and sees it right away.
    let bob = login(&site, "bob");
    let page = bob.get("/posts/borrowing-in-rust");
    assert!(page.body.contains("Commenting as"));
    let res = comment(&bob, "borrowing-in-rust", &[("body", "Author here.")]);
    assert_eq!(res.status, 303);
    assert!(bob
        .get("/posts/borrowing-in-rust")
        .body
        .contains("Author here."));

    // Errors keep what was typed.
    let res = comment(
        &anon,
        "borrowing-in-rust",
        &[
            ("author_name", "Zed"),
            ("author_email", "nope"),
            ("body", "Kept text"),
        ],
    );
    assert_eq!(res.status, 422);
    assert!(res.body.contains("Kept text") && res.body.contains("value=\"nope\""));
    // The answer comes back scrolled to the form.
    assert!(res
        .body
        .contains("action=\"/posts/borrowing-in-rust/comments#leave-a-comment\""));
    // Unknown post: 404.
    assert_eq!(comment(&anon, "borrowing-in-rust", &[]).status, 422);
    let token = anon.get("/posts/borrowing-in-rust").csrf();
    assert_eq!(
        anon.post(
            "/posts/no-such-post/comments",
            &[("csrf_token", &token), ("body", "x")]
        )
        .status,
        404
    );
}

fn replies_nest_and_notify_the_parent_with_one_click_unsubscribe() {
    let site = site("");
    let anon = site.browser();
    let dana: i64 = site.count("SELECT id FROM comments WHERE author_name = 'Dana'");
    // Dana (a known address) asks to hear about replies.
    site.db().exec(
        "UPDATE comments SET notify_replies = 1 WHERE id = ?",
        carnet::params![dana],
    );
    // One comment form per page; each comment's Reply link sets it to answer.
    let plain = anon.get("/posts/spring-planting");
    assert_eq!(
        plain
            .body
            .matches("<form class=\"form comment-form\"")
            .count(),
        1
    );
    assert!(plain
        .body
        .contains(&format!("?reply_to={dana}#leave-a-comment")));
    assert!(!plain.body.contains("name=\"parent\""));
    let replying = anon.get(&format!("/posts/spring-planting?reply_to={dana}"));
    assert!(replying
        .body
        .contains(&format!("name=\"parent\" value=\"{dana}\"")));
    assert!(replying.body.contains("Replying to <a href=\"#comment-"));
    for bogus in ["999999", "abc", "-1"] {
        let page = anon.get(&format!("/posts/spring-planting?reply_to={bogus}"));
        assert_eq!(page.status, 200, "reply_to={bogus}");
        assert!(!page.body.contains("name=\"parent\""), "reply_to={bogus}");
    }
    let parent = dana.to_string();
    let res = comment(
        &anon,
        "spring-planting",
        &[
            ("author_name", "Frank"),
            ("author_email", "frank@example.net"),
            ("body", "Replying to Dana"),
            ("parent", &parent),
        ],
    );
    assert_eq!(res.status, 303);
    let page = anon.get("/posts/spring-planting");
    let start = page.body.find(&format!("id=\"comment-{dana}\"")).unwrap();
    let end = start
        + page.body[start..]
            .find("</article>\n</li>\n</ol>")
            .unwrap_or(page.body.len() - start);
    assert!(
        page.body[start..end].contains("Replying to Dana"),
        "the reply sits inside its parent"
    );
    let mail = site.smtp.last_to("dana@example.net", WAIT);
    assert!(mail.subject().contains("replied"), "{}", mail.subject());
    let text = mail.text();
    let at = text
        .find("/comments/unsubscribe/")
        .expect("an unsubscribe link");
    let path = text[at..].split_whitespace().next().unwrap().to_owned();
    let path = path.as_str();
    assert_eq!(anon.get(path).status, 200);
    assert_eq!(
        site.count(&format!(
            "SELECT notify_replies FROM comments WHERE id = {dana}"
        )),
        0
    );
    assert_eq!(anon.get(path).status, 200, "a second click is harmless");
    assert_eq!(
        anon.get(&format!("/comments/unsubscribe/{dana}/forged"))
            .status,
        400
    );
    // A reply to a comment of another post is refused.
    let other: i64 = site.count("SELECT id FROM comments WHERE post_id = (SELECT id FROM posts WHERE slug = 'borrowing-in-rust') LIMIT 1");
    let res = comment(
        &anon,
        "spring-planting",
        &[
            ("author_name", "X"),
            ("author_email", "x@example.net"),
            ("body", "x"),
            ("parent", &other.to_string()),
        ],
    );
    assert_eq!(res.status, 400);
}

fn spam_defences() {
    let site = site("comment_blocklist = [\"cheap pills\", \"spammer@example.net\"]\nrate_comments_per_minute = 4");
    let anon = site.browser();
    let before = site.count("SELECT COUNT(*) FROM comments");
    // Honeypot: looks accepted, nothing stored.
    let res = comment(
        &anon,
        "spring-planting",
        &[
            ("author_name", "Bot"),
            ("author_email", "bot@example.net"),
            ("body", "hi"),
            ("website", "http://x"),
        ],
    );
    assert_eq!(res.status, 303);
    assert_eq!(site.count("SELECT COUNT(*) FROM comments"), before);
    // Link cap and blocklist: stored as spam, never shown.
    let links = "see http://a.example http://b.example http://c.example http://d.example";
    comment(
        &anon,
        "spring-planting",
        &[
            ("author_name", "L"),
            ("author_email", "l@example.net"),
            ("body", links),
        ],
    );
    comment(
        &anon,
        "spring-planting",
        &[
            ("author_name", "M"),
            ("author_email", "m@example.net"),
            ("body", "Buy CHEAP PILLS now"),
        ],
    );
    assert_eq!(site.count("SELECT COUNT(*) FROM comments WHERE status = 'spam' AND author_email IN ('l@example.net', 'm@example.net')"), 2);
    // Never public; its writer sees it waiting for a moderator, like any other.
    assert!(!site
        .browser()
        .get("/posts/spring-planting")
        .body
        .contains("CHEAP PILLS"));
    assert!(anon
        .get("/posts/spring-planting")
        .body
        .contains("CHEAP PILLS"));
    // Rate limit per IP, every attempt counted (4 a minute: the honeypot's, the
    // 2 spam and this one; the next ones are refused).
    comment(
        &anon,
        "spring-planting",
        &[
            ("author_name", "N"),
            ("author_email", "n@example.net"),
            ("body", "ok"),
        ],
    );
    comment(
        &anon,
        "spring-planting",
        &[
            ("author_name", "N"),
            ("author_email", "n@example.net"),
            ("body", "ok again"),
        ],
    );
    let res = comment(
        &anon,
        "spring-planting",
        &[
            ("author_name", "N"),
            ("author_email", "n@example.net"),
            ("body", "one more"),
        ],
    );
    assert_eq!(res.status, 429);
    assert!(res.retry_after.is_some());
}

fn a_form_sent_too_fast_waits_for_moderation_and_members_skip_the_timer() {
    let site = site("comment_min_seconds = 30\nrate_comments_per_minute = 3");
    let anon = site.browser();
    // Dana's address is trusted (an approved comment), but sent too fast a
    // comment waits for a moderator: never dropped.
    let res = comment(
        &anon,
        "spring-planting",
        &[
            ("author_name", "Dana"),
            ("author_email", "dana@example.net"),
            ("body", "thanks!"),
        ],
    );
    assert_eq!(res.status, 303);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM comments WHERE body = 'thanks!' AND status = 'pending'"),
        1,
        "kept for a moderator"
    );
    assert!(anon
        .get("/posts/spring-planting")
        .body
        .contains("Your comment is awaiting moderation"));
    // A logged-in member with a confirmed address skips the timer.
    let bob = login(&site, "bob");
    let res = comment(&bob, "spring-planting", &[("body", "Quick but real")]);
    assert_eq!(res.status, 303);
    assert!(res.location.unwrap().contains("?comment="));
    assert_eq!(
        site.count(
            "SELECT COUNT(*) FROM comments WHERE body = 'Quick but real' AND status = 'approved'"
        ),
        1
    );
    // Every attempt counts toward the limit, however fast: 3 a minute per IP
    // (both browsers come from 127.0.0.1), so the next one is refused.
    let res = comment(&bob, "spring-planting", &[("body", "Third")]);
    assert_eq!(res.status, 303);
    let res = comment(&bob, "spring-planting", &[("body", "Fourth")]);
    assert_eq!(res.status, 429);
    assert!(res.retry_after.is_some());
    assert_eq!(
        site.count("SELECT COUNT(*) FROM comments WHERE body = 'Fourth'"),
        0
    );
}

fn comment_xss_is_inert() {
    let site = site("");
    let bob = login(&site, "bob");
    let payloads = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(2)>",
        "[click](javascript:alert(3))",
        "<a href=\"javascript:alert(4)\">x</a>",
        "\"><svg onload=alert(5)>",
    ];
    for p in payloads {
        assert_eq!(comment(&bob, "spring-planting", &[("body", p)]).status, 303);
    }
    let page = site.browser().get("/posts/spring-planting").body;
    // Tags and attributes are gone; what remains is escaped text.
    for bad in [
        "<script>alert",
        "<svg",
        "<img src=x",
        "<a href=\"javascript",
        "<a rel=\"nofollow ugc noopener\" href=\"javascript",
    ] {
        assert!(!page.contains(bad), "{bad} in the page");
    }
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "raw HTML is shown as text"
    );
}

fn members_only_and_closed_comments() {
    let site = site("comments = \"members\"");
    let anon = site.browser();
    let page = anon.get("/posts/spring-planting");
    assert!(
        page.body.contains("Log in</a> to comment") && !page.body.contains("name=\"author_email\"")
    );
    assert!(page.csrf_or_none().is_none(), "no form at all");
    let token = anon.get("/accounts/login").csrf();
    let res = anon.post(
        "/posts/spring-planting/comments",
        &[
            ("csrf_token", &token),
            ("author_name", "A"),
            ("author_email", "a@example.net"),
            ("body", "x"),
        ],
    );
    assert_eq!(res.status, 403);
    assert_eq!(
        comment(
            &login(&site, "bob"),
            "spring-planting",
            &[("body", "member words")]
        )
        .status,
        303
    );

    // Per-post switch.
    site.db().exec(
        "UPDATE posts SET comments_enabled = 0 WHERE slug = 'spring-planting'",
        &[],
    );
    let bob = login(&site, "bob");
    assert!(bob
        .get("/posts/spring-planting")
        .body
        .contains("Comments are closed"));
    assert_eq!(
        comment(&bob, "spring-planting", &[("body", "x")]).status,
        403
    );
}

fn feeds_parse_and_point_at_the_site() {
    let site = site("site_url = \"https://blog.example.com\"");
    let b = site.browser();
    for (path, kind) in [
        ("/feed.xml", "rss"),
        ("/atom.xml", "atom"),
        ("/feed.json", "json"),
        ("/tags/rust/feed.xml", "rss"),
    ] {
        let res = b.get(path);
        assert_eq!(res.status, 200, "{path}");
        let feed =
            feed_rs::parser::parse(res.body.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(!feed.entries.is_empty(), "{path}");
        let titles: Vec<String> = feed
            .entries
            .iter()
            .filter_map(|e| e.title.as_ref().map(|t| t.content.clone()))
            .collect();
        assert!(
            !titles
                .iter()
                .any(|t| t == "Secret draft" || t == "Future post"),
            "{path}: {titles:?}"
        );
        let first = &feed.entries[0];
        assert!(
            first
                .links
                .iter()
                .any(|l| l.href == "https://blog.example.com/posts/borrowing-in-rust"),
            "{path}: {:?}",
            first.links
        );
        assert!(first.published.is_some(), "{path}");
        if kind != "json" {
            strict_xml(&res.body);
        }
        if path == "/tags/rust/feed.xml" {
            assert_eq!(titles, ["Borrowing in Rust"]);
        }
    }
    let json: serde_json::Value = serde_json::from_str(&b.get("/feed.json").body).unwrap();
    assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
    for key in ["id", "url", "title", "content_html", "date_published"] {
        assert!(json["items"][0].get(key).is_some(), "{key}");
    }
    let rss = b.get("/feed.xml").body;
    assert!(
        rss.contains("<category>Rust</category>") || rss.contains("<category>Gardening</category>")
    );
    assert!(
        b.get("/").body.contains("type=\"application/rss+xml\""),
        "feed discovery"
    );
    assert_eq!(b.get("/tags/nope/feed.xml").status, 404);
}

/// Parses XML strictly (well-formedness), panicking on the first error.
fn strict_xml(body: &str) {
    let mut reader = quick_xml::Reader::from_str(body);
    reader.config_mut().check_end_names = true;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed at {}: {e}", reader.buffer_position()),
        }
    }
}

fn sitemap_robots_and_conditional_get() {
    let site = site("site_url = \"https://blog.example.com\"");
    let b = site.browser();
    let map = b.get("/sitemap.xml").body;
    strict_xml(&map);
    for path in [
        "/posts/spring-planting",
        "/pages/about",
        "/tags/rust",
        "/authors/alice",
    ] {
        assert!(
            map.contains(&format!("<loc>https://blog.example.com{path}</loc>")),
            "{path}"
        );
    }
    assert!(!map.contains("secret-draft") && !map.contains("future-post"));
    assert!(map.contains("<lastmod>"));
    let robots = b.get("/robots.txt").body;
    assert!(robots.contains("Sitemap: https://blog.example.com/sitemap.xml"));

    for path in ["/feed.xml", "/sitemap.xml", "/atom.xml", "/pages/about"] {
        let res = b
            .agent
            .get(&format!("http://127.0.0.1:{}{path}", site.server.port))
            .call()
            .unwrap();
        let etag = res
            .header("ETag")
            .unwrap_or_else(|| panic!("{path} has no ETag"))
            .to_owned();
        let last_modified = res.header("Last-Modified").map(str::to_owned);
        let again = b
            .agent
            .get(&format!("http://127.0.0.1:{}{path}", site.server.port))
            .set("If-None-Match", &etag)
            .call();
        assert_eq!(again.map(|r| r.status()).unwrap_or(0), 304, "{path}");
        if let Some(lm) = last_modified {
            let again = b
                .agent
                .get(&format!("http://127.0.0.1:{}{path}", site.server.port))
                .set("If-Modified-Since", &lm)
                .call();
            assert_eq!(
                again.map(|r| r.status()).unwrap_or(0),
                304,
                "{path} by date"
            );
        }
    }
}

fn search_ranks_highlights_and_survives_hostile_input() {
    let site = site("");
    let b = site.browser();
    let res = b.get("/search?q=tomatoes");
    assert_eq!(res.status, 200);
    assert!(res.body.contains("/posts/spring-planting"));
    assert!(res.body.contains("<mark>tomatoes</mark>"), "{}", res.body);
    assert!(
        !b.get("/search?q=future")
            .body
            .contains("/posts/future-post"),
        "scheduled posts are not found"
    );
    assert!(
        !b.get("/search?q=yet").body.contains("secret-draft"),
        "drafts are not found"
    );
    assert!(
        b.get("/search?q=gardens").body.contains("/pages/about"),
        "pages are searched"
    );
    // A title match ranks above a body-only match.
    let import = serde_json::json!({"format": "carnet", "version": 1, "posts": [
        {"title": "Notes", "slug": "body-only", "body_markdown": "A long text that mentions zucchini once.", "status": "published", "published_at": "2025-07-01T00:00:00Z", "author": "alice"},
        {"title": "Zucchini season", "slug": "title-match", "body_markdown": "All about the harvest.", "status": "published", "published_at": "2025-07-02T00:00:00Z", "author": "alice"}
    ]});
    std::fs::write(site.path().join("more.json"), import.to_string()).unwrap();
    assert!(common::server::run(site.path(), &["import", "more.json"])
        .status
        .success());
    let body = b.get("/search?q=zucchini").body;
    let (title, only) = (
        body.find("/posts/title-match").unwrap(),
        body.find("/posts/body-only").unwrap(),
    );
    assert!(title < only, "the title match comes first");
    // Hostile input is always a page, never a 5xx.
    let long = "a".repeat(1000);
    for q in [
        "",
        "\"",
        "\"\"\"",
        "*",
        "%",
        "%25",
        "AND",
        "OR NOT",
        "NEAR(a b)",
        "title:x",
        "a AND (",
        "ünïcödé 漢字 🦀",
        "'; DROP TABLE posts; --",
        "+tomatoes -spring @distance 3 ~x <y >z (a*)",
        "a & b | !c <-> d:* \\",
        long.as_str(),
    ] {
        let encoded: String = q.bytes().map(|b| format!("%{b:02X}")).collect();
        let res = b.get(&format!("/search?q={encoded}"));
        assert_eq!(res.status, 200, "q={q:?}");
    }
    assert_eq!(b.get("/search?q=tomatoes&page=2").status, 404);
}

fn comments_come_a_page_of_comments_at_a_time() {
    let site = site("comments_per_page = 2\nrate_comments_per_minute = 100\n");
    let bob = login(&site, "bob");
    let mut ids = Vec::new();
    for n in 1..=3 {
        let res = comment(
            &bob,
            "spring-planting",
            &[("body", &format!("Thread number {n}"))],
        );
        assert_eq!(res.status, 303, "{}", res.body);
        let location = res.location.unwrap();
        let id = location.rsplit("#comment-").next().unwrap().to_owned();
        assert_eq!(
            location,
            format!("/posts/spring-planting?comment={id}#comment-{id}")
        );
        ids.push(id);
    }
    // Two comments a page in reading order (each comment followed by its
    // replies): the fixture's four, then bob's three. The heading counts
    // every comment.
    let anon = site.browser();
    let first = anon.get("/posts/spring-planting");
    assert!(
        first.body.contains("Great tips!") && first.body.contains("Thanks <strong>Dana</strong>!")
    );
    assert!(
        !first.body.contains("When is the last frost?") && !first.body.contains("Thread number")
    );
    assert!(first.body.contains("7 comments"));
    assert!(first.body.contains("Comments page 1 of 4"));
    assert!(first
        .body
        .contains("href=\"/posts/spring-planting?page=2#comments\" rel=\"next\""));
    let second = anon.get("/posts/spring-planting?page=2");
    assert!(
        second.body.contains("When is the last frost?")
            && second.body.contains("Reply before its parent")
    );
    let third = anon.get("/posts/spring-planting?page=3");
    assert_eq!(third.status, 200);
    assert!(third.body.contains("Thread number 1") && third.body.contains("Thread number 2"));
    assert!(!third.body.contains("Thread number 3") && !third.body.contains("Great tips!"));
    assert!(
        third.body.contains("/posts/spring-planting?page=3\">"),
        "canonical keeps the page"
    );
    for past in ["5", "0", "x"] {
        assert_eq!(
            anon.get(&format!("/posts/spring-planting?page={past}"))
                .status,
            404,
            "page={past}"
        );
    }
    // A link to a comment goes to the page that shows it.
    let link = anon.get(&format!("/posts/spring-planting?comment={}", ids[2]));
    assert_eq!(link.status, 303);
    let expected = format!("/posts/spring-planting?page=4#comment-{}", ids[2]);
    assert_eq!(link.location.as_deref(), Some(expected.as_str()));
    let gone = anon.get("/posts/spring-planting?comment=999999");
    assert_eq!(
        gone.location.as_deref(),
        Some("/posts/spring-planting#comments")
    );
    assert_eq!(anon.get("/posts/no-such-post?comment=1").status, 404);
    // Reply links keep the page; a reply opens on the page of the comment it
    // answers.
    assert!(third.body.contains(&format!(
        "href=\"/posts/spring-planting?page=3&amp;reply_to={}#leave-a-comment\"",
        ids[0]
    )));
    let replying = bob.get(&format!("/posts/spring-planting?reply_to={}", ids[1]));
    assert!(replying
        .body
        .contains(&format!("name=\"parent\" value=\"{}\"", ids[1])));
    assert!(replying.body.contains("Thread number 2"));
    let parent = ids[1].clone();
    let res = comment(
        &bob,
        "spring-planting",
        &[("body", "A late reply"), ("parent", &parent)],
    );
    let reply = res
        .location
        .unwrap()
        .rsplit("#comment-")
        .next()
        .unwrap()
        .to_owned();
    // The reply follows its parent in reading order, which pushes it to the
    // next page: that page opens with a link back to the comment it answers.
    let link = anon.get(&format!("/posts/spring-planting?comment={reply}"));
    let expected = format!("/posts/spring-planting?page=4#comment-{reply}");
    assert_eq!(link.location.as_deref(), Some(expected.as_str()));
    let fourth = anon.get("/posts/spring-planting?page=4").body;
    assert!(fourth.contains("A late reply") && fourth.contains("Thread number 3"));
    assert!(fourth.contains(&format!(
        "href=\"/posts/spring-planting?comment={parent}#comment-{parent}\">In reply to an earlier comment"
    )));
    // The cache's route and the comment-link route pass the other requests on
    // without a word (a forwarding guard or an unmatched query logs a warning
    // per request, even at the `critical` level).
    let log = site.server.output();
    assert!(
        !log.contains("forwarding") && !log.contains("failed to match"),
        "{log}"
    );
}

backend_tests!(
    anonymous_comments_wait_for_moderation_and_members_publish_at_once,
    replies_nest_and_notify_the_parent_with_one_click_unsubscribe,
    comments_come_a_page_of_comments_at_a_time,
    spam_defences,
    a_form_sent_too_fast_waits_for_moderation_and_members_skip_the_timer,
    comment_xss_is_inert,
    members_only_and_closed_comments,
    feeds_parse_and_point_at_the_site,
    sitemap_robots_and_conditional_get,
    search_ranks_highlights_and_survives_hostile_input,
);
