//! What a writer sends for a post, checked the same way whatever sends it
//! (the admin editor today; writing apps and the API next): the title, the
//! address, the status and date, tags and excerpt. Errors are by field name.

use super::model::PostStatus;
use super::posts::PostInput;
use crate::ground::{dates, slugs};
use crate::web::forms::FieldErrors;

/// A post's fields as typed.
#[derive(Debug, Clone, Copy)]
pub struct Draft<'a> {
    pub title: &'a str,
    /// Blank: made from the title.
    pub slug: &'a str,
    pub body: &'a str,
    /// Comma-separated tag names.
    pub tags: &'a str,
    /// `draft` or `published`.
    pub status: &'a str,
    /// `YYYY-MM-DDTHH:MM` (UTC) or RFC 3339; blank: now when published.
    pub published_at: &'a str,
    pub excerpt: &'a str,
    pub comments_enabled: bool,
}

/// Tag names from "Rust, web ,  Rust" → ["Rust", "web"] (slug-unique, in order).
pub fn parse_tags(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let slug = slugs::slugify(name);
        if slug.is_empty() {
            return Err(format!("“{name}” cannot be turned into a tag address"));
        }
        if name.chars().count() > 50 {
            return Err("A tag name has at most 50 characters.".into());
        }
        if !out.iter().any(|(_, s)| *s == slug) {
            out.push((name.to_owned(), slug));
        }
    }
    if out.len() > 20 {
        return Err("At most 20 tags per post.".into());
    }
    Ok(out)
}

/// A post that passed validation, ready to be written.
pub struct Checked {
    pub input: PostInput,
    pub tags: Vec<(String, String)>,
    pub explicit_slug: bool,
}

/// Checks a draft by `author_id`; `existing_published` is the stored date of
/// the post being edited (kept to the second when the field is untouched).
/// `None`, with `errors` filled in, when a field is wrong.
pub fn check(
    f: &Draft<'_>,
    author_id: i64,
    existing_published: Option<i64>,
    errors: &mut FieldErrors,
) -> Option<Checked> {
    let title = f.title.trim().to_owned();
    if title.is_empty() {
        errors.insert("title", "A post needs a title.".into());
    } else if title.chars().count() > 200 {
        errors.insert("title", "At most 200 characters.".into());
    }
    let explicit_slug = !f.slug.trim().is_empty();
    let slug = if explicit_slug {
        let s = f.slug.trim().to_lowercase();
        if !slugs::is_valid(&s) {
            errors.insert(
                "slug",
                "Use lowercase letters, digits and '-' only (at most 80).".into(),
            );
        }
        s
    } else {
        slugs::slugify(&title)
    };
    let status = PostStatus::parse(f.status).unwrap_or_else(|| {
        errors.insert("status", "Choose draft or published.".into());
        PostStatus::Draft
    });
    let published_at = match f.published_at.trim() {
        "" if status == PostStatus::Published => {
            Some(existing_published.unwrap_or_else(dates::now))
        }
        "" => None,
        text => match dates::parse_local(text).or_else(|| dates::parse_rfc3339(text)) {
            // The field shows minutes: an untouched date keeps its seconds.
            Some(ts) if existing_published.is_some_and(|e| e - e.rem_euclid(60) == ts) => {
                existing_published
            }
            Some(ts) => Some(ts),
            None => {
                errors.insert(
                    "published_at",
                    "Use the form YYYY-MM-DDTHH:MM (UTC).".into(),
                );
                None
            }
        },
    };
    let tags = parse_tags(f.tags).unwrap_or_else(|m| {
        errors.insert("tags", m);
        Vec::new()
    });
    if f.excerpt.chars().count() > 1000 {
        errors.insert("excerpt", "At most 1,000 characters.".into());
    }
    errors.is_empty().then(|| Checked {
        input: PostInput {
            title,
            slug,
            body_markdown: f.body.to_owned(),
            status,
            published_at,
            author_id,
            custom_excerpt: Some(f.excerpt.trim().to_owned()).filter(|e| !e.is_empty()),
            cover_image: None,
            comments_enabled: f.comments_enabled,
        },
        tags,
        explicit_slug,
    })
}
