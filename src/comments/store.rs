//! SQL for comments, and laying a post's discussion out in reading order.
//!
//! A post's approved comments are paged by comment, not by thread: the
//! discussion is read depth first (each comment followed by its replies), and
//! each page holds `comments_per_page` comments of that order. A thread with
//! 20,000 replies spreads over many pages instead of making one huge page; a
//! reply whose parent is on an earlier page opens its page with a link to it.

use std::collections::HashMap;

use super::{CommentNode, MAX_DEPTH};
use crate::dates;
use crate::db::{Conn, Row};
use crate::error::Result;
use crate::params;

/// One approved comment's place in the discussion: its id and the comment it
/// is shown inside (`None` at the top level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub id: i64,
    pub holder: Option<i64>,
}

/// The approved comments of a post in reading order (ids only: cheap even for
/// a post with tens of thousands of comments).
pub fn reading_order(c: &mut Conn, post_id: i64) -> Result<Vec<Placed>> {
    let rows = c.query(
        "SELECT id, parent_id FROM comments WHERE post_id = ? AND status = 'approved' ORDER BY created_at, id",
        params![post_id],
    )?;
    let pairs = rows
        .iter()
        .map(|r| Ok((r.get::<i64>(0)?, r.get::<Option<i64>>(1)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(depth_first(attach(&pairs)))
}

const NODE_COLUMNS: &str =
    "SELECT c.id, COALESCE(NULLIF(u.display_name, ''), u.username, c.author_name), \
     c.body_html, c.created_at, u.avatar FROM comments c LEFT JOIN users u ON u.id = c.user_id";

fn node(r: &Row) -> Result<CommentNode> {
    let created: i64 = r.get(3)?;
    let name: String = r
        .get::<Option<String>>(1)?
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "Anonymous".into());
    let avatar: Option<String> = r.get(4)?;
    Ok(CommentNode {
        id: r.get(0)?,
        initials: super::initials(&name),
        avatar_url: avatar.map(|a| format!("/media/{a}")),
        author_name: name,
        body_html: r.get(2)?,
        created_at: dates::rfc3339(created),
        created_display: dates::display(created),
        ..CommentNode::default()
    })
}

/// The comments `ids` (any status), by id.
fn nodes(c: &mut Conn, ids: &[i64]) -> Result<HashMap<i64, CommentNode>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "{NODE_COLUMNS} WHERE c.id IN ({})",
        Conn::placeholders(ids.len())
    );
    let values: Vec<crate::db::Value> = ids.iter().map(|&id| id.into()).collect();
    c.query(&sql, &values)?
        .iter()
        .map(|r| node(r).map(|n| (n.id, n)))
        .collect()
}

/// One page of a discussion (`placed`, a slice of the reading order) as a tree.
pub fn page_tree(c: &mut Conn, placed: &[Placed]) -> Result<Vec<CommentNode>> {
    let ids: Vec<i64> = placed.iter().map(|p| p.id).collect();
    let mut found = nodes(c, &ids)?;
    let items = placed
        .iter()
        .filter_map(|p| found.remove(&p.id).map(|n| (p.holder, n)))
        .collect();
    Ok(nest(items))
}

/// Of `ids` (from the visitor's cookie), the comments on `post_id` still waiting
/// for a moderator, oldest first.
pub fn awaiting(c: &mut Conn, post_id: i64, ids: &[i64]) -> Result<Vec<CommentNode>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{NODE_COLUMNS} WHERE c.post_id = ? AND c.status IN ('pending', 'spam') AND c.id IN ({}) ORDER BY c.id",
        Conn::placeholders(ids.len())
    );
    let mut values: Vec<crate::db::Value> = vec![post_id.into()];
    values.extend(ids.iter().map(|&id| crate::db::Value::from(id)));
    c.query(&sql, &values)?.iter().map(node).collect()
}

/// (id, parent) pairs in chronological order → (id, holder): nesting stops at
/// MAX_DEPTH, a reply to a comment at the deepest level is held beside it. A
/// reply whose parent is not shown (pending, spam) is held at the top level.
pub fn attach(pairs: &[(i64, Option<i64>)]) -> Vec<Placed> {
    let mut depth: HashMap<i64, usize> = HashMap::new();
    let mut holders: HashMap<i64, Option<i64>> = HashMap::new();
    let mut placed = Vec::with_capacity(pairs.len());
    for &(id, parent) in pairs {
        let holder = match parent.filter(|p| depth.contains_key(p)) {
            Some(p) if depth[&p] + 1 < MAX_DEPTH => Some(p),
            Some(p) => holders[&p],
            None => None,
        };
        depth.insert(id, holder.map_or(0, |h| depth[&h] + 1));
        holders.insert(id, holder);
        placed.push(Placed { id, holder });
    }
    placed
}

/// Chronologically ordered placements → reading order (each comment followed
/// by what it holds, oldest first at every level).
pub fn depth_first(placed: Vec<Placed>) -> Vec<Placed> {
    let mut held: HashMap<Option<i64>, Vec<Placed>> = HashMap::new();
    for p in placed {
        held.entry(p.holder).or_default().push(p);
    }
    let mut order = Vec::new();
    let mut stack: Vec<Placed> = held.remove(&None).unwrap_or_default();
    stack.reverse();
    while let Some(p) = stack.pop() {
        order.push(p);
        if let Some(mut inner) = held.remove(&Some(p.id)) {
            inner.reverse();
            stack.extend(inner);
        }
    }
    order
}

/// (holder, node) pairs in reading order → a tree. A node whose holder is not
/// among them (on an earlier page) starts a tree of its own, marked with the
/// comment it answers.
pub fn nest(items: Vec<(Option<i64>, CommentNode)>) -> Vec<CommentNode> {
    let present: std::collections::HashSet<i64> = items.iter().map(|(_, n)| n.id).collect();
    // Held nodes always come after their holder, so walking backwards finishes
    // every node's replies before the node itself is placed.
    let mut children: HashMap<Option<i64>, Vec<CommentNode>> = HashMap::new();
    for (holder, mut node) in items.into_iter().rev() {
        if let Some(mut replies) = children.remove(&Some(node.id)) {
            replies.reverse();
            node.replies = replies;
        }
        let holder = match holder {
            Some(h) if present.contains(&h) => Some(h),
            Some(h) => {
                node.continues = Some(h);
                None
            }
            None => None,
        };
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

    fn tree(pairs: &[(i64, Option<i64>)]) -> Vec<CommentNode> {
        let order = depth_first(attach(pairs));
        nest(order.iter().map(|p| (p.holder, node(p.id))).collect())
    }

    #[test]
    fn replies_nest_and_deep_ones_flatten() {
        // 1 <- 2 <- 3 <- 4 <- 5 <- 6, and 7 at the top level, 8 replying to 1.
        let pairs = [
            (1, None),
            (2, Some(1)),
            (3, Some(2)),
            (4, Some(3)),
            (5, Some(4)),
            (6, Some(5)),
            (7, None),
            (8, Some(1)),
        ];
        let tree = tree(&pairs);
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
        let order: Vec<i64> = depth_first(attach(&pairs)).iter().map(|p| p.id).collect();
        assert_eq!(order, vec![1, 2, 3, 4, 5, 6, 8, 7], "reading order");
    }

    #[test]
    fn a_page_that_starts_inside_a_thread_links_back_to_it() {
        // One thread: 1 with 5 replies; pages of 4 comments.
        let pairs: Vec<(i64, Option<i64>)> = std::iter::once((1, None))
            .chain((2..=6).map(|id| (id, Some(1))))
            .collect();
        let order = depth_first(attach(&pairs));
        let second: Vec<_> = order[4..].iter().map(|p| (p.holder, node(p.id))).collect();
        let page = nest(second);
        assert_eq!(page.iter().map(|n| n.id).collect::<Vec<_>>(), vec![5, 6]);
        assert!(page.iter().all(|n| n.continues == Some(1)));
    }
}
