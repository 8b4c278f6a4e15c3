//! Checks shared by the fuzz targets that render Markdown to HTML.

/// Whether `needle` appears inside a tag (an attribute) rather than in text:
/// text is escaped, so a raw `<` always opens a tag.
pub fn in_a_tag(html: &str, needle: &str) -> bool {
    html.match_indices(needle).any(|(at, _)| {
        let before = &html[..at];
        before.rfind('<') > before.rfind('>')
    })
}

/// No link or image in `html` (lowercased) runs a script.
pub fn assert_no_script_urls(html: &str) {
    assert!(!in_a_tag(html, "href=\"javascript:"), "{html}");
    assert!(!in_a_tag(html, "src=\"javascript:"), "{html}");
}
