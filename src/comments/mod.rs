//! Comments: the threaded, approved view of a post's discussion.

pub mod form;
pub mod notify;
pub mod routes;
pub mod store;

use rocket::fairing::AdHoc;
use serde::Serialize;

/// Posting comments and the one-click unsubscribe from reply mail.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Comments", |rocket| async {
        rocket.mount("/", routes::routes())
    })
}

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
    /// On a page that starts inside a thread: the comment this one is held in,
    /// shown on an earlier page.
    pub continues: Option<i64>,
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

/// The page (1-based, `per_page` comments a page in reading order) that
/// shows the comment `id`.
pub fn page_showing(order: &[store::Placed], id: i64, per_page: u32) -> Option<u32> {
    let at = order.iter().position(|p| p.id == id)?;
    u32::try_from(at / per_page.max(1) as usize + 1).ok()
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

    #[test]
    fn a_comment_is_on_the_page_of_its_place_in_reading_order() {
        let order = store::depth_first(store::attach(&[
            (1, None),
            (2, Some(1)),
            (4, None),
            (3, Some(2)),
            (5, None),
            (6, Some(5)),
        ]));
        // Reading order: 1, 2, 3, 4, 5, 6.
        assert_eq!(page_showing(&order, 3, 2), Some(2));
        assert_eq!(page_showing(&order, 4, 2), Some(2));
        assert_eq!(page_showing(&order, 6, 2), Some(3));
        assert_eq!(page_showing(&order, 6, 1), Some(6));
        assert_eq!(page_showing(&order, 7, 2), None);
        assert_eq!(page_showing(&order, 5, 0), Some(5), "0 a page counts as 1");
    }
}
