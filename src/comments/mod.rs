//! Comments: the threaded, approved view of a post's discussion.

pub mod notify;
pub mod routes;
pub mod store;

use serde::Serialize;

/// One comment as a post page shows it, with its replies inside.
#[derive(Debug, Clone, Default, Serialize)]
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

/// The page (1-based, `per_page` top-level threads a page) that shows the
/// comment `id`, replies included.
pub fn page_of(tree: &[CommentNode], id: i64, per_page: u32) -> Option<u32> {
    let thread = tree
        .iter()
        .position(|t| find(std::slice::from_ref(t), id).is_some())?;
    u32::try_from(thread / per_page.max(1) as usize + 1).ok()
}

/// Up to two initials of a name ("Ada Lovelace" → "AL"), for generated avatars.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: i64, replies: Vec<CommentNode>) -> CommentNode {
        CommentNode {
            id,
            replies,
            ..CommentNode::default()
        }
    }

    #[test]
    fn a_comment_is_on_the_page_of_its_thread() {
        let tree = vec![
            node(1, vec![node(2, vec![node(3, vec![])])]),
            node(4, vec![]),
            node(5, vec![node(6, vec![])]),
        ];
        assert_eq!(page_of(&tree, 3, 2), Some(1));
        assert_eq!(page_of(&tree, 4, 2), Some(1));
        assert_eq!(page_of(&tree, 6, 2), Some(2));
        assert_eq!(page_of(&tree, 6, 1), Some(3));
        assert_eq!(page_of(&tree, 7, 2), None);
        assert_eq!(page_of(&tree, 5, 0), Some(3), "0 a page counts as 1");
    }
}
