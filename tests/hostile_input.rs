//! A corpus of bad input sent to the real binary over raw TCP: malformed
//! multipart, invalid UTF-8 in paths, queries and forms, huge headers and
//! bodies, lying lengths, slow clients. Every answer is a 4xx (or a closed
//! connection for what is not HTTP), never a 5xx, and the log shows no panic.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::server::{Browser, Server};

const PASSWORD: &str = "correct horse battery";

/// Sends raw bytes, returns the status code of the answer (`None` when the
/// server closed the connection without one).
fn raw(port: u16, request: &[u8]) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // The server may answer (413, 400) and close before reading it all.
    let _ = stream.write_all(request);
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(2).any(|w| w == b"\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace().nth(1)?.parse().ok()
}

fn request(method: &str, path: &[u8], headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(path);
    out.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

#[test]
fn bad_input_never_gets_a_5xx_nor_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Rocket.toml"),
        "[default]\nmax_upload_bytes = 1000000\nrate_comments_per_minute = 100000\nrate_login_per_minute = 100000\n",
    )
    .unwrap();
    let hash = carnet::users::password::hash(PASSWORD).unwrap();
    let doc = serde_json::json!({
        "format": "carnet", "version": 1,
        "users": [{"username": "ed", "email": "ed@example.org", "role": "admin", "password_hash": hash}],
        "posts": [{"title": "Target", "slug": "target", "body_markdown": "x", "status": "published",
                   "published_at": "2025-01-01T00:00:00Z", "author": "ed"}]
    });
    std::fs::write(dir.path().join("site.json"), doc.to_string()).unwrap();
    assert!(common::server::run(dir.path(), &["import", "site.json"])
        .status
        .success());
    let server = Server::start(dir.path());
    let port = server.port;

    // A logged-in admin's cookie and token, so the forms behind a login are reached too.
    let b = Browser::new(port);
    let res = b.submit(
        "/accounts/login",
        "/accounts/login",
        &[("username", "ed"), ("password", PASSWORD)],
    );
    assert_eq!(res.status, 303);
    let token = b.get("/admin/media").csrf();
    let cookie = format!(
        "carnet_session={}",
        b.cookie("carnet_session").expect("session cookie")
    );
    let auth = |extra: &[(&'static str, String)]| -> Vec<(&'static str, String)> {
        let mut h = vec![("Cookie", cookie.clone())];
        h.extend(extra.iter().cloned());
        h
    };
    let multipart = |boundary: &str| {
        (
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
    };
    let form = (
        "Content-Type",
        "application/x-www-form-urlencoded".to_owned(),
    );

    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("invalid UTF-8 in the path", request("GET", b"/posts/\xff\xfe", &[], b"")),
        ("invalid UTF-8 in the query", request("GET", b"/search?q=\xc3\x28", &[], b"")),
        ("percent-encoded junk in the query", request("GET", b"/search?q=%ff%fe%00&page=%ff", &[], b"")),
        ("a NUL in a slug", request("GET", b"/posts/a%00b", &[], b"")),
        ("dot segments", request("GET", b"/media/../data/carnet.db", &[], b"")),
        ("encoded dot segments", request("GET", b"/media/%2e%2e/secret_key", &[], b"")),
        ("a huge page number", request("GET", b"/?page=99999999999999999999", &[], b"")),
        ("a negative page", request("GET", b"/tags?page=-1", &[], b"")),
        ("a 64 KB query", request("GET", format!("/sitemap.xml?x={}", "a".repeat(65_000)).as_bytes(), &[], b"")),
        ("a 100 KB header", request("GET", b"/", &[("X-Junk", "a".repeat(100_000))], b"")),
        ("five hundred headers", request("GET", b"/", &(0..500).map(|i| ("X-Many", format!("{i}"))).collect::<Vec<_>>(), b"")),
        ("invalid UTF-8 in a form body", request("POST", b"/posts/target/comments", std::slice::from_ref(&form), b"body=\xff\xfe&author_name=\xc3&author_email=a@b.c&csrf_token=x")),
        ("a form without its token", request("POST", b"/contact", std::slice::from_ref(&form), b"name=a&email=b&message=c")),
        ("a form body far over the limit", request("POST", b"/accounts/login", std::slice::from_ref(&form), &vec![b'a'; 3 * 1024 * 1024])),
        ("a length that lies (short)", request("POST", b"/accounts/login", &[form.clone(), ("Content-Length", "5".into())], b"username=a&password=b")),
        ("JSON where a form is expected", request("POST", b"/accounts/login", &[("Content-Type", "application/json".into())], b"{\"username\": 1}")),
        ("multipart without a boundary", request("POST", b"/admin/media", &auth(&[("Content-Type", "multipart/form-data".into())]), b"--x\r\n")),
        ("multipart never closed", request("POST", b"/admin/media", &auth(&[multipart("zz")]),
            &[format!("--zz\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n").as_bytes(), b"\x89PNG garbage"].concat())),
        ("multipart with a part lacking its name", request("POST", b"/admin/media", &auth(&[multipart("zz")]),
            b"--zz\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--zz--\r\n")),
        ("multipart with a huge part header", request("POST", b"/admin/media", &auth(&[multipart("zz")]),
            format!("--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\r\nx\r\n--zz--\r\n", "n".repeat(200_000)).as_bytes())),
        ("multipart: a text file named .png", request("POST", b"/admin/media", &auth(&[multipart("zz")]),
            format!("--zz\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\nnot an image\r\n--zz--\r\n").as_bytes())),
        ("multipart: a truncated PNG", request("POST", b"/admin/media", &auth(&[multipart("zz")]),
            &[format!("--zz\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n").as_bytes(),
              b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x10\0\0\0\x10\0\x08\x02", b"\r\n--zz--\r\n"].concat())),
        ("multipart: a PNG claiming 100000x100000 pixels", request("POST", b"/admin/media", &auth(&[multipart("zz")]),
            &[format!("--zz\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n").as_bytes(),
              b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\x01\x86\xa0\0\x01\x86\xa0\x08\x02\0\0\0\0\0\0\0", b"\r\n--zz--\r\n"].concat())),
        ("multipart to a form that takes none", request("POST", b"/posts/target/comments", &[multipart("zz")], b"--zz\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nhi\r\n--zz--\r\n")),
        ("an unknown method", request("BREW", b"/", &[], b"")),
        ("a request line that is not HTTP", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS hello\r\n\r\n".to_vec()),
    ];
    // An upload far over max_upload_bytes.
    cases.push((
        "an upload over the limit",
        request(
            "POST",
            b"/admin/media",
            &auth(&[multipart("zz")]),
            &[
                format!("--zz\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n").as_bytes(),
                &vec![0u8; 3_000_000],
                b"\r\n--zz--\r\n",
            ]
            .concat(),
        ),
    ));
    for (what, bytes) in &cases {
        let status = raw(port, bytes);
        eprintln!("{what}: {status:?}");
        assert!(
            status.is_none_or(|s| (400..500).contains(&s) || s < 400),
            "{what}: answered {status:?}"
        );
        assert!(status.is_none_or(|s| s < 500), "{what}: {status:?}");
    }

    // No refused upload left anything behind.
    let media = std::fs::read_dir(dir.path().join("data/media"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .count();
    assert_eq!(media, 0, "files left by refused uploads");

    // Slow clients: a request sent a byte at a time, and one that stops
    // half-way, while the site keeps answering others.
    let slow = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" {
            stream.write_all(&[*byte]).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    });
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stalled
        .write_all(
            b"POST /accounts/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nusername=",
        )
        .unwrap();
    for _ in 0..5 {
        assert_eq!(server.get("/").0, 200, "the site answers meanwhile");
    }
    let answer = slow.join().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(stalled);

    // Still up, and nothing panicked.
    assert_eq!(server.get("/healthz").0, 200);
    let log = server.output();
    assert!(!log.contains("panicked"), "{log}");
}
