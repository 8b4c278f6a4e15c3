//! The layout rules, checked on the source (README, "Architecture"):
//! - SQL lives in each table's owner module and in `src/db/`: never in the
//!   admin, in route files, in the web layer, or anywhere else;
//! - `src/ground/`, `src/db/`, `src/web/` and `src/events/` import no domain
//!   module (layers point one way: domains call down, never the reverse).

use std::fs;
use std::path::{Path, PathBuf};

/// Files allowed to hold SQL: `src/db/` and the owner of each table.
const OWNERS: &[(&str, &str)] = &[
    ("src/blog/posts.rs", "posts"),
    ("src/blog/pages.rs", "pages"),
    ("src/blog/tags.rs", "tags, post_tags"),
    ("src/comments/store.rs", "comments"),
    ("src/users/store.rs", "users"),
    ("src/users/session.rs", "sessions"),
    ("src/users/tokens.rs", "tokens"),
    ("src/media/library.rs", "media"),
    ("src/mail/queue.rs", "mail_queue"),
    ("src/site/settings.rs", "site_settings"),
    ("src/site/rate_limits.rs", "rate_limits"),
    ("src/events/outbox.rs", "events"),
];

/// Modules of the domains, which the lower layers must not name.
const DOMAINS: &[&str] = &[
    "admin", "blog", "comments", "users", "media", "mail", "site", "transfer", "events",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn relative(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// The lines of `text` outside `#[cfg(test)]` modules (tests may query
/// anything to check it).
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    let cut = text.find("#[cfg(test)]").unwrap_or(text.len());
    text[..cut]
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .collect()
}

/// A string literal that starts an SQL statement.
fn holds_sql(line: &str) -> bool {
    const STARTS: &[&str] = &["SELECT ", "INSERT INTO ", "UPDATE ", "DELETE FROM "];
    line.split('"').skip(1).step_by(2).any(|literal| {
        let literal = literal.trim_start();
        STARTS.iter().any(|s| literal.starts_with(s))
    })
}

#[test]
fn sql_lives_only_in_owner_modules_and_db() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut strays = Vec::new();
    for file in files {
        let name = relative(&file);
        if name.starts_with("src/db/") || OWNERS.iter().any(|(owner, _)| *owner == name) {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        for (n, line) in code_lines(&text) {
            if holds_sql(line) {
                strays.push(format!("{name}:{n}: {}", line.trim()));
            }
        }
    }
    assert!(
        strays.is_empty(),
        "SQL outside the owner modules (move it to the table's owner, see tests/architecture.rs):\n{}",
        strays.join("\n")
    );
}

#[test]
fn lower_layers_import_no_domain() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut strays = Vec::new();
    for layer in ["src/ground", "src/db", "src/web", "src/events"] {
        let mut files = Vec::new();
        rust_files(&root.join(layer), &mut files);
        for file in files {
            let name = relative(&file);
            let text = fs::read_to_string(&file).unwrap();
            for (n, line) in code_lines(&text) {
                for domain in DOMAINS {
                    let path = format!("crate::{domain}");
                    let names_it = line.match_indices(&path).any(|(at, _)| {
                        !line[at + path.len()..]
                            .starts_with(|c: char| c.is_alphanumeric() || c == '_')
                    });
                    // `events` may name itself.
                    if names_it && !(layer == "src/events" && *domain == "events") {
                        strays.push(format!("{name}:{n}: {}", line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        strays.is_empty(),
        "a lower layer names a domain (give it what it needs at start-up instead):\n{}",
        strays.join("\n")
    );
}

#[test]
fn the_checks_see_what_they_look_for() {
    assert!(holds_sql(r#"c.query("SELECT id FROM posts", params![])"#));
    assert!(holds_sql(r#"format!("DELETE FROM tags WHERE id = {x}")"#));
    assert!(!holds_sql(r#"log::info!("select a post")"#));
    assert!(!holds_sql(r#"let s = "UPDATED";"#));
    for (owner, _) in OWNERS {
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(owner).exists(),
            "{owner} is listed as an owner but does not exist"
        );
    }
}
