//! SQL for comments, and building the reply tree in one pass.

use std::collections::HashMap;

use super::{CommentNode, MAX_DEPTH};
use crate::dates;
use crate::db::Conn;
use crate::error::Result;
use crate::params;

/// The approved comments of a post as a tree, oldest first at every level.
/// A reply whose parent is not shown (pending, spam) is shown at the top level.
pub fn approved_tree(c: &mut Conn, post_id: i64) -> Result<Vec<CommentNode>> {
    let rows = c.query(
        "SELECT c.id, c.parent_id, COALESCE(NULLIF(u.display_name, ''), u.username, c.author_name), \
         c.body_html, c.created_at, u.avatar \
         FROM comments c LEFT JOIN users u ON u.id = c.user_id \
         WHERE c.post_id = ? AND c.status = 'approved' ORDER BY c.created_at, c.id",
        params![post_id],
    )?;
    let mut flat = Vec::with_capacity(rows.len());
    for r in &rows {
        let created: i64 = r.get(4)?;
        let name: String = r
            .get::<Option<String>>(2)?
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "Anonymous".into());
        let avatar: Option<String> = r.get(5)?;
        flat.push((
            r.get::<Option<i64>>(1)?,
            CommentNode {
                id: r.get(0)?,
                initials: super::initials(&name),
                avatar_url: avatar.map(|a| format!("/media/{a}")),
                author_name: name,
                body_html: r.get(3)?,
                created_at: dates::rfc3339(created),
                created_display: dates::display(created),
                replies: Vec::new(),
            },
        ));
    }
    Ok(build_tree(flat))
}

/// Turns (parent, node) pairs in chronological order into a tree. Nesting stops at
/// MAX_DEPTH: a reply to a comment at the deepest level is shown beside it.
pub fn build_tree(flat: Vec<(Option<i64>, CommentNode)>) -> Vec<CommentNode> {
    let mut depth: HashMap<i64, usize> = HashMap::new();
    let mut attached_to: HashMap<i64, Option<i64>> = HashMap::new();
    for (parent, node) in &flat {
        let attach = match parent.filter(|p| depth.contains_key(p)) {
            Some(p) if depth[&p] + 1 < MAX_DEPTH => Some(p),
            Some(p) => attached_to[&p],
            None => None,
        };
        depth.insert(node.id, attach.map_or(0, |a| depth[&a] + 1));
        attached_to.insert(node.id, attach);
    }
    // Children always come after their holder, so walking backwards finishes
    // every node's replies before the node itself is placed.
    let mut children: HashMap<Option<i64>, Vec<CommentNode>> = HashMap::new();
    for (_, mut node) in flat.into_iter().rev() {
        if let Some(mut replies) = children.remove(&Some(node.id)) {
            replies.reverse();
            node.replies = replies;
        }
        let holder = attached_to[&node.id];
        children.entry(holder).or_default().push(node);
    }
    let mut roots = children.remove(&None).unwrap_or_default();
    roots.reverse();
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: i64) -> CommentNode {
        CommentNode {
            id,
            ..CommentNode::default()
        }
    }

    #[test]
    fn replies_nest_and_deep_ones_flatten() {
        // 1 <- 2 <- 3 <- 4 <- 5 <- 6, and 7 at the top level, 8 replying to 1.
        let flat = vec![
            (None, node(1)),
            (Some(1), node(2)),
            (Some(2), node(3)),
            (Some(3), node(4)),
            (Some(4), node(5)),
            (Some(5), node(6)),
            (None, node(7)),
            (Some(1), node(8)),
        ];
        let tree = build_tree(flat);
        assert_eq!(tree.iter().map(|n| n.id).collect::<Vec<_>>(), vec![1, 7]);
        assert_eq!(
            tree[0].replies.iter().map(|n| n.id).collect::<Vec<_>>(),
            vec![2, 8]
        );
        let level3 = &tree[0].replies[0].replies[0];
        assert_eq!(level3.id, 3);
        // 4 is at the deepest level (depth 3); 5 and 6 are shown beside it.
        assert_eq!(
            level3.replies.iter().map(|n| n.id).collect::<Vec<_>>(),
            vec![4, 5, 6]
        );
    }
}
