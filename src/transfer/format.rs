//! The records of the export format. Unknown fields are ignored; a missing
//! optional field takes its default. Export writes every field, so that
//! export → import into an empty site → export gives the same document.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

fn default_role() -> String {
    "member".into()
}
fn default_post_status() -> String {
    "draft".into()
}
fn default_page_status() -> String {
    "published".into()
}
fn default_comment_status() -> String {
    "pending".into()
}
fn default_true() -> bool {
    true
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SiteFile {
    pub format: String,
    pub version: u32,
    #[serde(default)]
    pub users: Vec<UserRecord>,
    #[serde(default)]
    pub tags: Vec<TagRecord>,
    #[serde(default)]
    pub posts: Vec<PostRecord>,
    #[serde(default)]
    pub pages: Vec<PageRecord>,
    #[serde(default)]
    pub comments: Vec<CommentRecord>,
    /// The media library's records (the files themselves travel with the
    /// media folder, or the bucket).
    #[serde(default)]
    pub media: Vec<MediaRecord>,
    /// The settings edited in `/admin/settings` (they override `Rocket.toml`).
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct UserRecord {
    pub username: String,
    pub email: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub bio: String,
    #[serde(default)]
    pub avatar: Option<String>,
    #[serde(default = "default_role")]
    pub role: String,
    #[serde(default)]
    pub password_hash: Option<String>,
    #[serde(default = "default_true")]
    pub is_active: bool,
    /// Imported users count as confirmed unless the file says otherwise.
    #[serde(default = "default_true")]
    pub email_confirmed: bool,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TagRecord {
    pub name: String,
    #[serde(default)]
    pub slug: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PostRecord {
    pub title: String,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub body_markdown: String,
    #[serde(default = "default_post_status")]
    pub status: String,
    #[serde(default)]
    pub published_at: Option<String>,
    pub author: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub excerpt: Option<String>,
    #[serde(default)]
    pub cover_image: Option<String>,
    #[serde(default = "default_true")]
    pub comments_enabled: bool,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PageRecord {
    pub title: String,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub body_markdown: String,
    #[serde(default = "default_page_status")]
    pub status: String,
    #[serde(default = "default_true")]
    pub show_in_nav: bool,
    #[serde(default)]
    pub nav_order: i64,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CommentRecord {
    /// Links replies to their parent inside the file (export numbers the
    /// comments 1, 2, 3… in the order they were written).
    #[serde(default)]
    pub id: Option<i64>,
    pub post: String,
    #[serde(default)]
    pub parent: Option<i64>,
    /// The member who wrote it (username), if any.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub author_name: String,
    #[serde(default)]
    pub author_email: String,
    pub body: String,
    #[serde(default = "default_comment_status")]
    pub status: String,
    pub created_at: String,
    #[serde(default)]
    pub ip: Option<String>,
    /// The writer asked for mail about replies.
    #[serde(default)]
    pub notify_replies: bool,
    /// SHA-256 of the one-click unsubscribe token already mailed, so those
    /// links keep working after a move.
    #[serde(default)]
    pub unsubscribe_hash: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct MediaRecord {
    pub file_name: String,
    #[serde(default)]
    pub original_name: String,
    pub mime: String,
    #[serde(default)]
    pub size_bytes: i64,
    #[serde(default)]
    pub width: Option<u32>,
    #[serde(default)]
    pub height: Option<u32>,
    #[serde(default)]
    pub thumb: Option<String>,
    #[serde(default)]
    pub variants: Vec<VariantRecord>,
    /// Who uploaded it (username), if known.
    #[serde(default)]
    pub uploader: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct VariantRecord {
    pub width: u32,
    pub file: String,
}
