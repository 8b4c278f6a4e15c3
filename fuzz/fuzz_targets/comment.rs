//! Comment Markdown: the strict allow-list holds for any input (no image, no
//! raw HTML element, no script), and rendering never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let html = carnet::markdown::render_comment(text).to_ascii_lowercase();
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<iframe"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
});
