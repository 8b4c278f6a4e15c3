//! Comments: the threaded, approved view of a post's discussion.

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
    pub replies: Vec<CommentNode>,
}

/// Replies deeper than this are shown under their ancestor at this depth.
pub const MAX_DEPTH: usize = 4;
