//! HTML escaping for text and attribute values.

/// Escapes `& < > " '`. Unlike Tera's default it leaves `/` alone, so URLs
/// stay readable (`/` is harmless in quoted attributes).
pub fn escape_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 8);
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}
