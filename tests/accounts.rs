//! Accounts end to end: the real binary over HTTP, mail through a real SMTP
//! receiver on loopback.

mod common;

use std::path::Path;
use std::time::Duration;

use common::server::{assert_clean_failure, free_port, run, run_with_stdin, text, Browser, Server};
use common::site::{write_mail_config, Site};
use common::smtp::SmtpServer;

const WAIT: Duration = Duration::from_secs(20);
const PASSWORD: &str = "correct horse battery";

const MAIL_FROM: &str = "mail_from = \"Blog <blog@example.com>\"";

fn write_config(dir: &Path, smtp_port: u16, extra: &str) {
    write_mail_config(dir, smtp_port, &format!("{MAIL_FROM}\n{extra}"));
}

fn site(extra: &str) -> Site {
    Site::start(&format!("{MAIL_FROM}\n{extra}"), |_| {})
}

fn signup(b: &Browser, username: &str, email: &str) -> common::server::Page {
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

fn login(b: &Browser, username: &str, password: &str) -> common::server::Page {
    b.submit(
        "/accounts/login",
        "/accounts/login",
        &[("username", username), ("password", password)],
    )
}

fn path_of(link: &str) -> String {
    let rest = link.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_string()
}

/// Signs up, confirms by mail, logs in.
fn member(site: &Site, username: &str) -> Browser {
    let b = site.browser();
    let email = format!("{username}@example.org");
    assert_eq!(signup(&b, username, &email).status, 303);
    let mail = site.smtp.last_to(&email, WAIT);
    assert_eq!(b.get(&path_of(&mail.link("http://"))).status, 303);
    assert_eq!(login(&b, username, PASSWORD).status, 303);
    b
}

fn signup_confirm_by_mail_then_login() {
    let site = site("");
    let b = site.browser();
    let res = signup(&b, "Zoe", "zoe@example.org");
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location.as_deref(), Some("/accounts/login"));
    assert!(
        b.get("/accounts/login").body.contains("confirm"),
        "flash shown after the redirect"
    );

    // Not confirmed yet: refused, with a clear message.
    let res = login(&b, "zoe", PASSWORD);
    assert_ne!(res.status, 303);
    assert!(
        res.body.contains("confirm your email address"),
        "{}",
        res.body
    );

    let mail = site.smtp.last_to("zoe@example.org", WAIT);
    assert_eq!(mail.from, "blog@example.com");
    assert!(mail.subject().contains("Confirm"), "{}", mail.subject());
    assert!(mail.html().contains("<a href="), "multipart with HTML");
    let link = mail.link(&format!(
        "http://127.0.0.1:{}/accounts/confirm/",
        site.server.port
    ));
    let res = b.get(&path_of(&link));
    assert_eq!(res.status, 303);
    // A confirmation link works once.
    assert_eq!(b.get(&path_of(&link)).status, 400);

    let res = login(&b, "zoe@example.org", PASSWORD);
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location.as_deref(), Some("/"));
    let profile = b.get("/accounts/profile");
    assert_eq!(profile.status, 200);
    assert!(profile.body.contains("zoe@example.org"));

    // The stored hash is a PHC argon2id string that an independent implementation verifies.
    let hash: String = site.db().scalar(
        "SELECT password_hash FROM users WHERE username = 'zoe'",
        &[],
    );
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(argon2_reference::verify_encoded(&hash, PASSWORD.as_bytes()).unwrap());
    assert!(!argon2_reference::verify_encoded(&hash, b"wrong horse battery").unwrap());
}

fn signup_errors_keep_what_was_typed() {
    let site = site("");
    let b = site.browser();
    let res = b.submit(
        "/accounts/signup",
        "/accounts/signup",
        &[
            ("username", "bad name"),
            ("email", "nope"),
            ("password", "short"),
            ("password_confirm", "short"),
        ],
    );
    assert_eq!(res.status, 422);
    assert!(
        res.body.contains("bad name") && res.body.contains("value=\"nope\""),
        "{}",
        res.body
    );
    assert!(res.body.contains("at least 10 characters"));
    assert!(site.smtp.messages().is_empty());
    member(&site, "yann");
    let res = signup(&site.browser(), "yann", "other@example.org");
    assert_eq!(res.status, 422);
    assert!(res.body.contains("taken"));
}

fn closed_registration_refuses_signup() {
    let site = site("registration = \"closed\"");
    let b = site.browser();
    assert_eq!(b.get("/accounts/signup").status, 404);
    let token = b.get("/accounts/login").csrf();
    let res = b.post(
        "/accounts/signup",
        &[
            ("username", "x"),
            ("email", "x@example.org"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
            ("csrf_token", &token),
        ],
    );
    assert_eq!(res.status, 404);
    assert!(!b.get("/accounts/login").body.contains("/accounts/signup"));
}

fn password_reset_link_works_once_and_expires() {
    let site = site("");
    member(&site, "walt");
    let b = site.browser();
    let count = site.smtp.messages().len();
    let res = b.submit(
        "/accounts/password-reset",
        "/accounts/password-reset",
        &[("email", "walt@example.org")],
    );
    assert_eq!(res.status, 200);
    let known_body = res.body;
    let mail = site.smtp.wait_for(count + 1, WAIT).pop().unwrap();
    let link = path_of(&mail.link("http://"));
    assert!(link.starts_with("/accounts/password-reset/"));

    // An unknown address gets exactly the same answer, and no mail.
    let before = site.smtp.messages().len();
    let res = b.submit(
        "/accounts/password-reset",
        "/accounts/password-reset",
        &[("email", "nobody@example.org")],
    );
    assert_eq!(res.status, 200);
    assert_eq!(strip_tokens(&res.body), strip_tokens(&known_body));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(site.smtp.messages().len(), before);

    let new_pw = "a completely new passphrase";
    let res = b.submit(
        &link,
        &link,
        &[("password", new_pw), ("password_confirm", new_pw)],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    // Once only.
    assert_eq!(b.get(&link).status, 400);
    let res = b.submit(
        "/accounts/login",
        &link,
        &[
            ("password", "yet another passphrase"),
            ("password_confirm", "yet another passphrase"),
        ],
    );
    assert_eq!(res.status, 400);
    assert_eq!(
        login(&site.browser(), "walt", PASSWORD).status,
        422,
        "old password refused"
    );
    assert_eq!(login(&site.browser(), "walt", new_pw).status, 303);

    // An expired link is refused.
    let count = site.smtp.messages().len();
    b.submit(
        "/accounts/password-reset",
        "/accounts/password-reset",
        &[("email", "walt@example.org")],
    );
    let mail = site.smtp.wait_for(count + 1, WAIT).pop().unwrap();
    let link = path_of(&mail.link("http://"));
    site.db().exec(
        "UPDATE tokens SET expires_at = 0 WHERE kind = 'password_reset' AND used_at IS NULL",
        &[],
    );
    assert_eq!(b.get(&link).status, 400);
}

/// Pages differ only by their CSRF token.
fn strip_tokens(html: &str) -> String {
    html.lines()
        .filter(|l| !l.contains("csrf_token"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn logout_and_password_change_end_old_sessions() {
    let site = site("");
    let b = member(&site, "vera");
    let old = format!("carnet_session={}", b.cookie("carnet_session").unwrap());
    assert_eq!(b.get_with_cookie("/accounts/profile", &old).status, 200);
    let token = b.get("/accounts/profile").csrf();
    assert_eq!(
        b.post("/accounts/logout", &[("csrf_token", &token)]).status,
        303
    );
    assert_eq!(
        b.get_with_cookie("/accounts/profile", &old).status,
        303,
        "the old cookie is dead"
    );
    assert_eq!(b.get("/accounts/profile").status, 303);

    // Two browsers; a password change in one signs out the other.
    let first = site.browser();
    let second = site.browser();
    assert_eq!(login(&first, "vera", PASSWORD).status, 303);
    assert_eq!(login(&second, "vera", PASSWORD).status, 303);
    let first_cookie = format!("carnet_session={}", first.cookie("carnet_session").unwrap());
    let new_pw = "another strong passphrase";
    let res = first.submit(
        "/accounts/profile",
        "/accounts/profile/password",
        &[
            ("current_password", PASSWORD),
            ("password", new_pw),
            ("password_confirm", new_pw),
        ],
    );
    assert_eq!(
        res.status,
        303,
        "{}",
        res.body
            .split("<main")
            .nth(1)
            .unwrap_or(&res.body)
            .replace('\n', " ")
    );
    assert_eq!(
        second.get("/accounts/profile").status,
        303,
        "other sessions end"
    );
    assert_eq!(
        first
            .get_with_cookie("/accounts/profile", &first_cookie)
            .status,
        303,
        "the old cookie too"
    );
    assert_eq!(
        first.get("/accounts/profile").status,
        200,
        "this browser got a fresh session"
    );

    // `changepassword` at the shell ends sessions as well.
    let out = run_with_stdin(
        site.path(),
        &["changepassword", "vera", "--password-stdin"],
        "shell set passphrase\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(first.get("/accounts/profile").status, 303);
}

fn csrf_is_required_on_every_form() {
    let site = site("");
    let b = member(&site, "uma");
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("/accounts/logout", &[]),
        ("/accounts/profile", &[("display_name", "X")]),
        (
            "/accounts/profile/password",
            &[("current_password", PASSWORD)],
        ),
        ("/accounts/profile/email", &[("email", "u2@example.org")]),
        (
            "/contact",
            &[("name", "U"), ("email", "u@example.org"), ("message", "hi")],
        ),
    ];
    for (path, fields) in cases {
        assert_eq!(b.post(path, fields).status, 403, "{path} without token");
        let mut wrong = fields.to_vec();
        wrong.push(("csrf_token", "forged"));
        assert_eq!(
            b.post(path, &wrong).status,
            403,
            "{path} with a wrong token"
        );
    }
    let anon = site.browser();
    assert_eq!(
        anon.post(
            "/accounts/login",
            &[("username", "uma"), ("password", PASSWORD)]
        )
        .status,
        403
    );
    // A script may send the token as a header.
    let token = b.get("/accounts/profile").csrf();
    let res = b
        .agent
        .post(&format!(
            "http://127.0.0.1:{}/accounts/logout",
            site.server.port
        ))
        .set("X-CSRF-Token", &token)
        .send_form(&[]);
    match res {
        Ok(r) => assert_eq!(r.status(), 303),
        Err(e) => panic!("logout with the header: {e}"),
    }
    // The 403 is a styled page.
    let res = anon.post("/accounts/login", &[]);
    assert!(res.body.contains("/static/style."));
}

fn next_never_leaves_the_site() {
    let site = site("");
    member(&site, "tess");
    for (next, expected) in [
        ("https://elsewhere.example/", "/"),
        ("//elsewhere.example/", "/"),
        ("/\\elsewhere.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/accounts/profile", "/accounts/profile"),
    ] {
        let b = site.browser();
        let res = b.submit(
            "/accounts/login",
            "/accounts/login",
            &[("username", "tess"), ("password", PASSWORD), ("next", next)],
        );
        assert_eq!(res.status, 303);
        assert_eq!(res.location.as_deref(), Some(expected), "next={next}");
    }
    // A protected page sends anonymous visitors to the login page, and back.
    let res = site.browser().get("/accounts/profile");
    assert_eq!(res.status, 303);
    assert_eq!(
        res.location.as_deref(),
        Some("/accounts/login?next=/accounts/profile")
    );
    let page = site
        .browser()
        .get("/accounts/login?next=https://elsewhere.example/");
    assert!(!page.body.contains("elsewhere.example"));
}

fn many_bad_logins_get_429() {
    let site = site("");
    member(&site, "sam");
    let b = site.browser();
    let token = b.get("/accounts/login").csrf();
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..30 {
        let res = b.post(
            "/accounts/login",
            &[
                ("username", "sam"),
                ("password", "wrong password!"),
                ("csrf_token", &token),
            ],
        );
        statuses.push(res.status);
        if res.status == 429 {
            retry_after = res.retry_after.clone();
            assert!(res.body.contains("too many times"), "{}", res.body);
        }
    }
    assert!(statuses[..5].iter().all(|s| *s == 422), "{statuses:?}");
    assert_eq!(*statuses.last().unwrap(), 429, "{statuses:?}");
    assert!(retry_after.is_some_and(|s| s.parse::<u64>().is_ok()));
    // The account is throttled even with the right password, from this address.
    assert_eq!(login(&b, "sam", PASSWORD).status, 429);
}

fn mail_waits_for_a_server_that_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let smtp_port = free_port();
    write_config(dir.path(), smtp_port, "");
    let server = Server::start(dir.path());
    let b = Browser::new(server.port);
    // Nobody listens on smtp_port: the request still succeeds at once.
    let started = std::time::Instant::now();
    let res = signup(&b, "rita", "rita@example.org");
    assert_eq!(res.status, 303);
    assert!(started.elapsed() < Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(1500));
    let row =
        common::backend::site_db(dir.path()).row("SELECT status, attempts FROM mail_queue", &[]);
    let (status, attempts): (String, i64) = (row.get(0).unwrap(), row.get(1).unwrap());
    assert_eq!(status, "queued");
    assert!(attempts >= 1, "a failed attempt was recorded");
    // The server comes back: the mail arrives.
    let smtp = SmtpServer::start_on(smtp_port);
    let mail = smtp.last_to("rita@example.org", WAIT);
    assert!(mail.text().contains("/accounts/confirm/"));
    std::thread::sleep(Duration::from_millis(300));
    let status: String =
        common::backend::site_db(dir.path()).scalar("SELECT status FROM mail_queue", &[]);
    assert_eq!(status, "sent");
}

fn contact_mails_every_admin_with_reply_to() {
    let site = site("");
    for (name, email) in [("admin", "admin@example.org"), ("root", "root@example.org")] {
        let out = run_with_stdin(
            site.path(),
            &[
                "createsuperuser",
                "--username",
                name,
                "--email",
                email,
                "--password-stdin",
                "--no-input",
            ],
            &format!("{PASSWORD}\n"),
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let b = site.browser();
    let res = b.submit(
        "/contact",
        "/contact",
        &[
            ("name", "Eve\r\nBcc: victim@example.net"),
            ("email", "eve@example.net"),
            ("message", "Hello there,\nnice blog."),
        ],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    let messages = site.smtp.wait_for(2, WAIT);
    let mut recipients: Vec<String> = messages.iter().flat_map(|m| m.to.clone()).collect();
    recipients.sort();
    assert_eq!(recipients, ["admin@example.org", "root@example.org"]);
    for m in &messages {
        let parsed = m.parsed();
        let reply_to = parsed
            .reply_to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap()
            .to_owned();
        assert_eq!(reply_to, "eve@example.net");
        assert!(m.text().contains("nice blog."));
        let raw = String::from_utf8_lossy(&m.data);
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(
            !headers
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
            "{raw}"
        );
        assert!(parsed.bcc().is_none());
        assert_eq!(m.to.len(), 1, "one recipient per message");
    }
    // The honeypot: looks accepted, nothing sent.
    let res = b.submit(
        "/contact",
        "/contact",
        &[
            ("name", "Bot"),
            ("email", "bot@example.net"),
            ("message", "spam"),
            ("website", "http://spam.example"),
        ],
    );
    assert_eq!(res.status, 303);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(site.smtp.messages().len(), 2);
    // Errors keep what was typed.
    let res = b.submit(
        "/contact",
        "/contact",
        &[
            ("name", "Al"),
            ("email", "not-an-address"),
            ("message", "Hi"),
        ],
    );
    assert_eq!(res.status, 422);
    assert!(res.body.contains("not-an-address"));
}

fn contact_is_rate_limited() {
    let site = site("rate_contact_per_hour = 2");
    let b = site.browser();
    let send = || {
        b.submit(
            "/contact",
            "/contact",
            &[("name", "A"), ("email", "a@example.net"), ("message", "Hi")],
        )
    };
    assert_eq!(send().status, 303);
    assert_eq!(send().status, 303);
    let res = send();
    assert_eq!(res.status, 429);
    assert!(res.retry_after.is_some());

    // Sent all at once to a new site, still at most 2 get through.
    let fresh = crate::site("rate_contact_per_hour = 2");
    let b = fresh.browser();
    let token = b.get("/contact").csrf();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..12)
            .map(|_| {
                let (b, token) = (&b, &token);
                s.spawn(move || {
                    b.post(
                        "/contact",
                        &[
                            ("name", "A"),
                            ("email", "a@example.net"),
                            ("message", "Hi"),
                            ("csrf_token", token),
                        ],
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        2,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 303 || *s == 429),
        "{statuses:?}"
    );
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::DynamicImage::new_rgb8(w, h);
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn profile_name_bio_avatar_and_email_change() {
    let site = site("");
    let b = member(&site, "quinn");
    let token = b.get("/accounts/profile").csrf();
    let res = b.post_multipart(
        "/accounts/profile",
        &[
            ("csrf_token", &token),
            ("display_name", "Quinn Q."),
            ("bio", "Hello <b>world</b>"),
        ],
        ("avatar", "me.png", &png(300, 200)),
    );
    assert_eq!(res.status, 303, "{}", res.body);
    let page = b.get("/accounts/profile");
    assert!(
        page.body.contains("Quinn Q.") && page.body.contains("Hello &lt;b&gt;world&lt;&#x2F;b&gt;")
            || page.body.contains("Hello &lt;b&gt;world&lt;/b&gt;")
    );
    let avatar: String = site
        .db()
        .scalar("SELECT avatar FROM users WHERE username = 'quinn'", &[]);
    let stored = std::fs::read(site.path().join("data/media").join(&avatar)).unwrap();
    let img = image::load_from_memory(&stored).unwrap();
    assert_eq!((img.width(), img.height()), (256, 256));
    assert_eq!(b.get(&format!("/media/{avatar}")).status, 200);

    // Not an image → 415, the old avatar kept.
    let res = b.post_multipart(
        "/accounts/profile",
        &[("csrf_token", &token), ("display_name", "Quinn")],
        ("avatar", "evil.jpg", b"<script>alert(1)</script>"),
    );
    assert_eq!(res.status, 415);
    assert!(res.body.contains("not a PNG, JPEG, WebP or GIF"));

    // Changing the address: mail to the new one; the change waits for the link.
    let res = b.submit(
        "/accounts/profile",
        "/accounts/profile/email",
        &[("email", "q2@example.org"), ("current_password", PASSWORD)],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(b
        .get("/accounts/profile")
        .body
        .contains("quinn@example.org"));
    let mail = site.smtp.last_to("q2@example.org", WAIT);
    assert_eq!(b.get(&path_of(&mail.link("http://"))).status, 303);
    assert!(b.get("/accounts/profile").body.contains("q2@example.org"));
    assert_eq!(
        login(&site.browser(), "q2@example.org", PASSWORD).status,
        303
    );
}

fn sendtestemail_reports_success_and_failure() {
    let site = site("");
    let out = run(site.path(), &["sendtestemail", "ops@example.org"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("accepted by 127.0.0.1"));
    let mail = site.smtp.last_to("ops@example.org", WAIT);
    assert!(mail.subject().contains("Test message"));

    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), free_port(), "");
    let err = assert_clean_failure(&run(dir.path(), &["sendtestemail", "ops@example.org"]));
    assert!(err.contains("could not be sent"), "{err}");
    assert_clean_failure(&run(dir.path(), &["sendtestemail", "not an address"]));
}

fn log_transport_writes_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let b = Browser::new(server.port);
    assert_eq!(signup(&b, "olga", "olga@example.org").status, 303);
    let outbox = dir.path().join("data/outbox");
    let start = std::time::Instant::now();
    loop {
        let files: Vec<_> = std::fs::read_dir(&outbox)
            .map(|d| d.flatten().collect())
            .unwrap_or_default();
        if let Some(f) = files.first() {
            let eml = std::fs::read_to_string(f.path()).unwrap();
            assert!(eml.contains("olga@example.org"));
            assert!(f.path().extension().is_some_and(|e| e == "eml"));
            break;
        }
        assert!(start.elapsed() < WAIT, "no .eml in the outbox");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn a_hash_with_old_parameters_is_upgraded_at_login() {
    use argon2::password_hash::PasswordHasher;
    use argon2::{Algorithm, Argon2, Params, Version};
    let site = site("");
    member(&site, "ulla");
    let params = Params::new(8192, 1, 1, None).unwrap();
    let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    site.db().exec(
        "UPDATE users SET password_hash = ? WHERE username = 'ulla'",
        carnet::params![&weak],
    );
    assert_eq!(login(&site.browser(), "ulla", PASSWORD).status, 303);
    let now: String = site.db().scalar(
        "SELECT password_hash FROM users WHERE username = 'ulla'",
        &[],
    );
    assert_ne!(now, weak);
    assert!(now.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{now}");
    assert!(argon2_reference::verify_encoded(&now, PASSWORD.as_bytes()).unwrap());
}

backend_tests!(
    signup_confirm_by_mail_then_login,
    signup_errors_keep_what_was_typed,
    closed_registration_refuses_signup,
    password_reset_link_works_once_and_expires,
    logout_and_password_change_end_old_sessions,
    csrf_is_required_on_every_form,
    next_never_leaves_the_site,
    many_bad_logins_get_429,
    mail_waits_for_a_server_that_is_down,
    contact_mails_every_admin_with_reply_to,
    contact_is_rate_limited,
    profile_name_bio_avatar_and_email_change,
    sendtestemail_reports_success_and_failure,
    log_transport_writes_the_outbox,
    a_hash_with_old_parameters_is_upgraded_at_login,
);
