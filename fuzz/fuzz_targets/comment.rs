//! Comment Markdown: the strict allow-list holds for any input (no image, no
//! raw HTML element, no script), and rendering never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Whether `needle` appears inside a tag (an attribute) rather than in text:
/// text is escaped, so a raw `<` always opens a tag.
fn in_a_tag(html: &str, needle: &str) -> bool {
    html.match_indices(needle).any(|(at, _)| {
        let before = &html[..at];
        before.rfind('<') > before.rfind('>')
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let html = carnet::ground::markdown::render_comment(text).to_ascii_lowercase();
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<iframe"), "{html}");
    assert!(!in_a_tag(&html, "href=\"javascript:"), "{html}");
    assert!(!in_a_tag(&html, "src=\"javascript:"), "{html}");
});
