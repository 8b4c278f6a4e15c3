//! Markdown to safe HTML, done once when content is saved or imported.
//! pulldown-cmark renders CommonMark (+ tables, footnotes, strikethrough, task
//! lists); ammonia then keeps only an allow-list of tags and attributes.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use pulldown_cmark::{html, Event, Options, Parser, Tag, TagEnd};

/// What a rendered document yields: HTML plus the plain-text facts lists need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    /// The readable text, for search.
    pub text: String,
    pub excerpt: String,
    pub reading_minutes: i64,
}

const EXCERPT_CHARS: usize = 280;
const WORDS_PER_MINUTE: usize = 220;

/// Elements nested deeper than this are flattened (their content is kept):
/// the HTML sanitizer's work grows with the square of the nesting depth (a
/// line of 20,000 `>` took 1.5 s), and no real text nests this deep.
const MAX_NESTING: usize = 32;

/// Drops the start and end of every element opened `MAX_NESTING` deep or
/// deeper, keeping what is inside, so rendering stays linear in the input.
fn capped<'a>(events: impl Iterator<Item = Event<'a>>) -> impl Iterator<Item = Event<'a>> {
    let mut kept: Vec<bool> = Vec::new();
    let mut depth = 0usize;
    events.filter(move |event| match event {
        Event::Start(_) => {
            let keep = depth < MAX_NESTING;
            depth += usize::from(keep);
            kept.push(keep);
            keep
        }
        Event::End(_) => {
            let keep = kept.pop().unwrap_or(false);
            depth -= usize::from(keep);
            keep
        }
        _ => true,
    })
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
}

/// Renders a post or page body: images, tables, code blocks with language
/// classes and footnotes are kept; scripts, styles, event handlers are not.
pub fn render_post(markdown: &str) -> Rendered {
    render_post_with(markdown, &HashMap::new())
}

/// Like `render_post`, giving images whose URL is a key of `srcsets` that
/// `srcset` (resized copies from the media library).
pub fn render_post_with(markdown: &str, srcsets: &HashMap<String, String>) -> Rendered {
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(
        &mut raw,
        with_srcsets(capped(Parser::new_ext(markdown, options())), srcsets).into_iter(),
    );
    let html = POST_SANITIZER.clean(&raw).to_string();
    let text = plain_text(markdown);
    Rendered {
        html,
        excerpt: excerpt(&text, EXCERPT_CHARS),
        reading_minutes: reading_minutes(&text),
        text,
    }
}

/// Renders a comment: basic formatting and links only; raw HTML is shown as text.
pub fn render_comment(markdown: &str) -> String {
    let parser =
        capped(Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH)).map(|event| match event {
            // Raw HTML in a comment is displayed, not interpreted.
            Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
            other => other,
        });
    let mut raw = String::new();
    html::push_html(&mut raw, parser);
    COMMENT_SANITIZER.clean(&raw).to_string()
}

/// Image URLs of a document that point into the media library.
pub fn media_images(markdown: &str) -> Vec<String> {
    Parser::new_ext(markdown, options())
        .filter_map(|e| match e {
            Event::Start(Tag::Image { dest_url, .. }) if dest_url.starts_with("/media/") => {
                Some(dest_url.to_string())
            }
            _ => None,
        })
        .collect()
}

/// Replaces each library image by an `<img>` with its `srcset`; other events pass.
fn with_srcsets<'a>(
    events: impl Iterator<Item = Event<'a>>,
    srcsets: &HashMap<String, String>,
) -> Vec<Event<'a>> {
    let mut out = Vec::new();
    let mut image: Option<(String, String, String)> = None; // (src, srcset, alt)
    for event in events {
        match (&mut image, event) {
            (None, Event::Start(Tag::Image { dest_url, .. }))
                if srcsets.contains_key(dest_url.as_ref()) =>
            {
                let set = srcsets[dest_url.as_ref()].clone();
                image = Some((dest_url.to_string(), set, String::new()));
            }
            (Some((src, set, alt)), Event::End(TagEnd::Image)) => {
                let esc = crate::ground::html::escape_html;
                out.push(Event::InlineHtml(
                    format!(
                        r#"<img src="{}" srcset="{}" sizes="(max-width: 760px) 100vw, 760px" alt="{}" loading="lazy" decoding="async">"#,
                        esc(src),
                        esc(set),
                        esc(alt)
                    )
                    .into(),
                ));
                image = None;
            }
            (Some((_, _, alt)), Event::Text(t) | Event::Code(t)) => alt.push_str(&t),
            (Some(_), _) => {}
            (None, other) => out.push(other),
        }
    }
    out
}

static POST_SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.add_tags(["input", "figure", "figcaption", "section"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("code", ["class"])
        .add_tag_attributes("div", ["class", "id"])
        .add_tag_attributes("sup", ["class"])
        .add_tag_attributes("img", ["loading", "decoding", "srcset", "sizes"])
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            ("code", "class") => value.starts_with("language-").then(|| value.into()),
            ("div", "class") => (value == "footnote-definition").then(|| value.into()),
            ("sup", "class") => (value == "footnote-definition-label"
                || value == "footnote-reference")
                .then(|| value.into()),
            ("div", "id") => is_anchor(value).then(|| value.into()),
            ("input", "type") => (value == "checkbox").then(|| value.into()),
            // Only resized copies from our own media library.
            ("img", "srcset") => value
                .split(',')
                .all(|candidate| candidate.trim().starts_with("/media/"))
                .then(|| value.into()),
            _ => Some(value.into()),
        })
        .link_rel(Some("noopener noreferrer"));
    b
});

static COMMENT_SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&str> = [
        "a",
        "p",
        "br",
        "em",
        "strong",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
    ]
    .into_iter()
    .collect();
    let mut b = ammonia::Builder::empty();
    b.tags(tags)
        .add_tag_attributes("a", ["href"])
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("nofollow ugc noopener"));
    b
});

fn is_anchor(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The readable text of a Markdown document (no markup, code blocks skipped).
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut in_code_block = false;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => in_code_block = true,
            Event::End(TagEnd::CodeBlock) => in_code_block = false,
            Event::Text(t) | Event::Code(t) if !in_code_block => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::TableCell
                | TagEnd::FootnoteDefinition,
            ) => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first `max` characters of `text`, cut at a word boundary, with an ellipsis.
pub fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => &cut,
    };
    format!(
        "{}…",
        cut.trim_end_matches(|c: char| c.is_ascii_punctuation() || c == ' ')
    )
}

pub fn reading_minutes(text: &str) -> i64 {
    let words = text.split_whitespace().count();
    words.div_ceil(WORDS_PER_MINUTE).max(1) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nesting is flattened past `MAX_NESTING`, keeping the words, in posts
    /// and comments alike (quotes, lists, emphasis).
    #[test]
    fn deep_nesting_is_flattened_and_the_words_kept() {
        let quotes = format!("{} deep words", ">".repeat(10_000));
        let lists = format!("{} listed", "- ".repeat(5_000));
        for body in [quotes.as_str(), lists.as_str()] {
            for html in [render_post(body).html, render_comment(body)] {
                let opened = html.matches("<blockquote>").count()
                    + html.matches("<ul>").count()
                    + html.matches("<li>").count();
                assert!(opened <= MAX_NESTING, "{opened} elements open");
                assert_eq!(
                    opened,
                    html.matches("</").count() - html.matches("</p>").count()
                );
                assert!(
                    html.contains("deep words") || html.contains("listed"),
                    "{html}"
                );
            }
        }
        // Ordinary nesting is untouched.
        let html = render_post("> a\n>\n> > b\n").html;
        assert_eq!(html.matches("<blockquote>").count(), 2);
    }

    #[test]
    fn scripts_and_handlers_are_removed_from_posts() {
        let r = render_post(
            "Hi <script>alert(1)</script><img src=x onerror=alert(1)> [a](javascript:alert(1))",
        );
        assert!(!r.html.contains("<script"), "{}", r.html);
        assert!(!r.html.contains("onerror"), "{}", r.html);
        assert!(!r.html.contains("javascript:"), "{}", r.html);
    }

    #[test]
    fn posts_keep_tables_code_classes_footnotes_and_images() {
        let md = "| a | b |\n|---|---|\n| 1 | 2 |\n\n```rust\nfn main() {}\n```\n\nText[^n].\n\n[^n]: Note.\n\n![cat](/media/cat.png)\n\n~~gone~~";
        let r = render_post(md);
        assert!(r.html.contains("<table>"), "{}", r.html);
        assert!(
            r.html.contains(r#"<code class="language-rust">"#),
            "{}",
            r.html
        );
        assert!(r.html.contains("footnote-definition"), "{}", r.html);
        assert!(
            r.html.contains(r#"<img src="/media/cat.png" alt="cat">"#),
            "{}",
            r.html
        );
        assert!(r.html.contains("<del>gone</del>"), "{}", r.html);
    }

    #[test]
    fn library_images_get_their_srcset() {
        let mut sets = HashMap::new();
        sets.insert(
            "/media/a.jpg".to_owned(),
            "/media/a-400.webp 400w, /media/a.jpg 900w".to_owned(),
        );
        let r = render_post_with("![A *cat*](/media/a.jpg) ![b](/media/b.jpg)", &sets);
        assert!(
            r.html
                .contains(r#"srcset="/media/a-400.webp 400w, /media/a.jpg 900w""#),
            "{}",
            r.html
        );
        assert!(r.html.contains(r#"alt="A cat""#), "{}", r.html);
        assert!(
            r.html.contains(r#"<img src="/media/b.jpg" alt="b">"#),
            "{}",
            r.html
        );
        let evil = render_post(r#"<img src="/x.png" srcset="javascript:alert(1) 1x">"#);
        assert!(!evil.html.contains("javascript"), "{}", evil.html);
        assert_eq!(
            media_images("![a](/media/a.jpg) ![b](https://x.example/b.png)"),
            vec!["/media/a.jpg"]
        );
    }

    #[test]
    fn comments_are_strict() {
        let html = render_comment("**hi** <b>raw</b> ![img](/x.png) [link](https://example.com)");
        assert!(html.contains("<strong>hi</strong>"));
        assert!(html.contains("&lt;b&gt;raw&lt;/b&gt;"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains(r#"rel="nofollow ugc noopener""#), "{html}");
    }

    #[test]
    fn excerpt_cuts_at_a_word_and_reading_time_rounds_up() {
        let text = "word ".repeat(300);
        let e = excerpt(text.trim(), 20);
        assert!(e.ends_with('…') && e.chars().count() <= 21, "{e}");
        assert_eq!(reading_minutes(text.trim()), 2);
        assert_eq!(reading_minutes(""), 1);
        assert_eq!(
            plain_text("# Title\n\nSome *text*.\n\n```\ncode\n```"),
            "Title Some text."
        );
    }
}
