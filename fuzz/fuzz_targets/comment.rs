//! Comment Markdown: the strict allow-list holds for any input (no image, no
//! raw HTML element, no script), and rendering never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common/html.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let html = carnet::ground::markdown::render_comment(text).to_ascii_lowercase();
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<iframe"), "{html}");
    checks::assert_no_script_urls(&html);
});
