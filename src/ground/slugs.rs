//! URL slugs for posts, pages, tags: made from titles, validated when given.

/// A slug made from free text ("Héllo, World!" → "hello-world"), at most 80 bytes.
pub fn slugify(text: &str) -> String {
    let slug = slug::slugify(text);
    let mut cut = slug.as_str();
    if cut.len() > 80 {
        cut = cut[..80].trim_end_matches('-');
    }
    cut.to_owned()
}

/// The first of `base`, `base-2`, `base-3`… that `taken` says is free
/// (`untitled` for an empty base).
pub fn first_free<E>(
    base: &str,
    mut taken: impl FnMut(&str) -> Result<bool, E>,
) -> Result<String, E> {
    let base = if base.is_empty() { "untitled" } else { base };
    let mut n = 1u32;
    loop {
        let candidate = match n {
            1 => base.to_owned(),
            n => format!("{base}-{n}"),
        };
        if !taken(&candidate)? {
            return Ok(candidate);
        }
        n += 1;
    }
}

/// True for a slug Carnet would make itself: lowercase ASCII words joined by `-`.
pub fn is_valid(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 80
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Héllo, World!"), "hello-world");
        assert!(is_valid("hello-world-2"));
        assert!(!is_valid("Hello"));
        assert!(!is_valid("../etc"));
        assert!(slugify(&"a".repeat(200)).len() <= 80);
    }
}
