//! Comments: the threaded, approved view of a post's discussion.

pub mod notify;
pub mod routes;
pub mod store;

use serde::Serialize;

/// One comment as a post page shows it, with its replies inside.
#[derive(Debug, Clone, Serialize)]
pub struct CommentNode {
    pub id: i64,
    pub author_name: String,
    pub body_html: String,
    pub created_at: String,
    pub created_display: String,
    /// The member's own avatar; others get `initials` drawn by CSS (no third-party calls).
    pub avatar_url: Option<String>,
    pub initials: String,
    pub replies: Vec<CommentNode>,
}

/// Replies deeper than this are shown under their ancestor at this depth.
pub const MAX_DEPTH: usize = 4;

/// Up to two initials of a name ("Ada Lovelace" → "AL"), for generated avatars.
/// The comment `id` anywhere in a thread.
pub fn find(tree: &[CommentNode], id: i64) -> Option<&CommentNode> {
    tree.iter().find_map(|c| {
        if c.id == id {
            Some(c)
        } else {
            find(&c.replies, id)
        }
    })
}

pub fn initials(name: &str) -> String {
    let letters: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    if letters.is_empty() {
        "?".into()
    } else {
        letters
    }
}
