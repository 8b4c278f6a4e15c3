//! Post Markdown: rendering never panics, and what comes out is sanitized
//! (no script, no event handler, no `javascript:` link survives).
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
    let rendered = carnet::ground::markdown::render_post(text);
    let html = rendered.html.to_ascii_lowercase();
    assert!(!html.contains("<script"), "{html}");
    assert!(!in_a_tag(&html, "href=\"javascript:"), "{html}");
    assert!(!in_a_tag(&html, "src=\"javascript:"), "{html}");
    let _ = carnet::ground::markdown::media_images(text);
});
