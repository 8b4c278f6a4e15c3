//! Post Markdown: rendering never panics, and what comes out is sanitized
//! (no script, no event handler, no `javascript:` link survives).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common/html.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let rendered = carnet::ground::markdown::render_post(text);
    let html = rendered.html.to_ascii_lowercase();
    assert!(!html.contains("<script"), "{html}");
    checks::assert_no_script_urls(&html);
    let _ = carnet::ground::markdown::media_images(text);
});
