//! Row types for the public side of the blog, shaped for templates.

use serde::Serialize;

use crate::ground::dates;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PostStatus {
    Draft,
    Published,
}

impl PostStatus {
    pub fn parse(s: &str) -> Option<PostStatus> {
        match s {
            "draft" => Some(PostStatus::Draft),
            "published" => Some(PostStatus::Published),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PostStatus::Draft => "draft",
            PostStatus::Published => "published",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AuthorRef {
    pub username: String,
    pub display_name: String,
    pub url: String,
}

impl AuthorRef {
    pub fn new(username: String, display_name: String) -> Self {
        AuthorRef {
            url: super::links::author(&username),
            username,
            display_name,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TagRef {
    pub name: String,
    pub slug: String,
    pub url: String,
}

impl TagRef {
    pub fn new(name: String, slug: String) -> Self {
        TagRef {
            url: super::links::tag(&slug),
            name,
            slug,
        }
    }
}

/// A post as lists show it (and, with `body_html`, as its own page shows it).
#[derive(Debug, Clone, Serialize)]
pub struct PostSummary {
    pub id: i64,
    pub title: String,
    pub slug: String,
    pub url: String,
    pub excerpt: String,
    pub published_ts: i64,
    pub published_at: String,
    pub published_display: String,
    pub updated_at: String,
    pub reading_minutes: i64,
    pub comment_count: i64,
    pub cover_url: Option<String>,
    pub author: AuthorRef,
    pub tags: Vec<TagRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    pub comments_enabled: bool,
}

impl PostSummary {
    pub fn dates(&mut self, published: i64, updated: i64) {
        self.published_ts = published;
        self.published_at = dates::rfc3339(published);
        self.published_display = dates::display(published);
        self.updated_at = dates::rfc3339(updated);
    }
}

/// A static page.
#[derive(Debug, Clone, Serialize)]
pub struct StaticPage {
    pub id: i64,
    pub title: String,
    pub slug: String,
    pub url: String,
    pub body_html: String,
    pub updated_at: String,
    pub updated_display: String,
}

/// A tag with how many public posts carry it.
#[derive(Debug, Clone, Serialize)]
pub struct TagCount {
    pub name: String,
    pub slug: String,
    pub url: String,
    pub count: i64,
    pub weight: u8,
}
