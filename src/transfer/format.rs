//! The records of the export format. Unknown fields are ignored; a missing
//! optional field takes its default.

use serde::{Deserialize, Serialize};

fn default_role() -> String {
    "member".into()
}
fn default_post_status() -> String {
    "draft".into()
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
}

#[derive(Debug, Serialize, Deserialize)]
pub struct UserRecord {
    pub username: String,
    pub email: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub bio: String,
    #[serde(default = "default_role")]
    pub role: String,
    #[serde(default)]
    pub password_hash: Option<String>,
    #[serde(default = "default_true")]
    pub is_active: bool,
    #[serde(default)]
    pub created_at: Option<String>,
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
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PageRecord {
    pub title: String,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub body_markdown: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CommentRecord {
    #[serde(default)]
    pub id: Option<i64>,
    pub post: String,
    #[serde(default)]
    pub parent: Option<i64>,
    #[serde(default)]
    pub author_name: String,
    #[serde(default)]
    pub author_email: String,
    pub body: String,
    #[serde(default = "default_comment_status")]
    pub status: String,
    pub created_at: String,
}
