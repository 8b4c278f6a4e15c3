//! The `comments` table (its one owner): every statement on comments, and
//! laying a post's discussion out in reading order.
//!
//! A post's approved comments are paged by comment, not by thread: the
//! discussion is read depth first (each comment followed by its replies), and
//! each page holds `comments_per_page` comments of that order. A thread with
//! 20,000 replies spreads over many pages instead of making one huge page; a
//! reply whose parent is on an earlier page opens its page with a link to it.

use std::collections::HashMap;

use serde::Serialize;

use super::{CommentNode, MAX_DEPTH};
use crate::db::{Conn, Row, Value};
use crate::error::Result;
use crate::events::{outbox, Kind};
use crate::ground::dates;
use crate::params;
use crate::transfer::format::CommentRecord;

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
    let values: Vec<Value> = ids.iter().map(|&id| id.into()).collect();
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
    let mut values: Vec<Value> = vec![post_id.into()];
    values.extend(ids.iter().map(|&id| Value::from(id)));
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

/// Comments in the order they were written, numbered 1, 2, 3… in the file
/// (database ids differ between sites; the numbers only link replies).
pub fn export_records(c: &mut Conn) -> Result<Vec<CommentRecord>> {
    let rows = c.query(
        "SELECT c.id, p.slug, c.parent_id, u.username, c.author_name, c.author_email, c.body, c.status, \
         c.created_at, c.ip, c.notify_replies, c.unsubscribe_hash \
         FROM comments c JOIN posts p ON p.id = c.post_id LEFT JOIN users u ON u.id = c.user_id ORDER BY c.id",
        params![],
    )?;
    let mut number: HashMap<i64, i64> = HashMap::with_capacity(rows.len());
    let mut out = Vec::with_capacity(rows.len());
    for (n, r) in (1..).zip(&rows) {
        number.insert(r.get(0)?, n);
        let parent: Option<i64> = r.get(2)?;
        out.push(CommentRecord {
            id: Some(n),
            post: r.get(1)?,
            // Parents are always older, so already numbered.
            parent: parent.and_then(|p| number.get(&p).copied()),
            user: r.get(3)?,
            author_name: r.get(4)?,
            author_email: r.get(5)?,
            body: r.get(6)?,
            status: r.get(7)?,
            created_at: dates::rfc3339(r.get(8)?),
            ip: r.get(9)?,
            notify_replies: r.get(10)?,
            unsubscribe_hash: r.get(11)?,
        });
    }
    Ok(out)
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

#[derive(Debug, Serialize)]
pub struct Listed {
    id: i64,
    author_name: String,
    author_email: String,
    body_html: String,
    status: String,
    created_display: String,
    post_title: String,
    post_url: String,
    ip: Option<String>,
}

/// Comments, newest first: with `status` only those; with `post_author` only
/// on that author's posts.
pub fn listed(
    c: &mut Conn,
    status: Option<&str>,
    post_author: Option<i64>,
    limit: u32,
    offset: i64,
) -> Result<Vec<Listed>> {
    let mut conditions = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    if let Some(s) = status {
        conditions.push("c.status = ?");
        params.push(s.into());
    }
    if let Some(author) = post_author {
        conditions.push("p.author_id = ?");
        params.push(author.into());
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    params.push(limit.into());
    params.push(offset.into());
    c.query(
        &format!(
            "SELECT c.id, COALESCE(NULLIF(u.display_name, ''), u.username, c.author_name), COALESCE(u.email, c.author_email), \
             c.body_html, c.status, c.created_at, p.title, p.slug, c.ip \
             FROM comments c JOIN posts p ON p.id = c.post_id LEFT JOIN users u ON u.id = c.user_id \
             {filter} ORDER BY c.created_at DESC, c.id DESC LIMIT ? OFFSET ?"
        ),
        &params,
    )?
    .iter()
    .map(|r| {
        let id: i64 = r.get(0)?;
        let slug: String = r.get(7)?;
        Ok(Listed {
            id,
            author_name: r.get::<Option<String>>(1)?.unwrap_or_default(),
            author_email: r.get::<Option<String>>(2)?.unwrap_or_default(),
            body_html: r.get(3)?,
            status: r.get(4)?,
            created_display: dates::display(r.get(5)?),
            post_title: r.get(6)?,
            post_url: format!("{}?comment={id}#comment-{id}", crate::blog::links::post(&slug)),
            ip: r.get(8)?,
        })
    })
    .collect()
}

/// How many comments have `status`.
pub fn count_by_status(c: &mut Conn, status: &str) -> Result<i64> {
    c.query_scalar(
        "SELECT COUNT(*) FROM comments WHERE status = ?",
        params![status],
    )
}

/// Comments waiting for a moderator: on one author's posts, or on all.
pub fn count_pending(c: &mut Conn, post_author: Option<i64>) -> Result<i64> {
    match post_author {
        Some(author) => c.query_scalar(
            "SELECT COUNT(*) FROM comments c JOIN posts p ON p.id = c.post_id \
             WHERE c.status = 'pending' AND p.author_id = ?",
            params![author],
        ),
        None => count_by_status(c, "pending"),
    }
}

/// True when comment `id` is an approved comment of post `post_id` (one a
/// reply may answer).
pub fn is_approved_on(c: &mut Conn, id: i64, post_id: i64) -> Result<bool> {
    let n: i64 = c.query_scalar(
        "SELECT COUNT(*) FROM comments WHERE id = ? AND post_id = ? AND status = 'approved'",
        params![id, post_id],
    )?;
    Ok(n > 0)
}

/// True when a moderator approved an anonymous comment from this address
/// before, and no member uses it (anyone can type a member's address).
pub fn address_trusted(c: &mut Conn, email: &str) -> Result<bool> {
    let n: i64 = c.query_scalar(
        "SELECT COUNT(*) FROM comments WHERE author_email = ? AND status = 'approved' AND user_id IS NULL \
         AND NOT EXISTS (SELECT 1 FROM users WHERE email = ?)",
        params![email, email],
    )?;
    Ok(n > 0)
}

/// A comment as received, or as an import file gives it.
#[derive(Debug, Clone)]
pub struct NewComment<'a> {
    pub post_id: i64,
    pub parent_id: Option<i64>,
    pub user_id: Option<i64>,
    pub author_name: &'a str,
    pub author_email: &'a str,
    pub body: &'a str,
    pub body_html: &'a str,
    /// `approved`, `pending` or `spam`.
    pub status: &'a str,
    pub ip: Option<&'a str>,
    pub notify_replies: bool,
    /// The digest of the reply-notification unsubscribe token.
    pub unsubscribe_hash: Option<&'a str>,
    pub created_at: i64,
}

/// Stores a comment and records what it means: `CommentPosted` (unless it is
/// quarantined as spam) and `CommentApproved` when readers see it at once.
pub fn insert(c: &mut Conn, n: &NewComment<'_>) -> Result<i64> {
    c.transaction(|c| {
        let id = c.insert(
            "INSERT INTO comments (post_id, parent_id, user_id, author_name, author_email, body, body_html, status, ip, \
             notify_replies, unsubscribe_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![n.post_id, n.parent_id, n.user_id, n.author_name, n.author_email, n.body, n.body_html,
                n.status, n.ip, n.notify_replies, n.unsubscribe_hash, n.created_at],
        )?;
        let payload = serde_json::json!({"post_id": n.post_id});
        if n.status != "spam" {
            outbox::record(c, Kind::CommentPosted, id, &payload, n.created_at)?;
        }
        if n.status == "approved" {
            outbox::record(c, Kind::CommentApproved, id, &payload, n.created_at)?;
        }
        Ok(id)
    })
}

/// What a moderator does to comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moderation {
    Approve,
    Spam,
    Delete,
}

impl Moderation {
    pub fn parse(action: &str) -> Option<Moderation> {
        match action {
            "approve" => Some(Moderation::Approve),
            "spam" => Some(Moderation::Spam),
            "delete" => Some(Moderation::Delete),
            _ => None,
        }
    }
}

/// Applies a moderation action to comments; returns how many it found.
/// A comment that becomes visible records `CommentApproved`.
pub fn moderate(c: &mut Conn, action: Moderation, ids: &[i64], now: i64) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    c.transaction(|c| {
        if action == Moderation::Approve {
            let mut found = 0;
            for &id in ids {
                let Some(r) =
                    c.query_opt("SELECT post_id FROM comments WHERE id = ?", params![id])?
                else {
                    continue;
                };
                found += 1;
                let post_id: i64 = r.get(0)?;
                // The conditional update decides: one moderator's approval
                // records the event, a second one finds it done.
                let approved = c.execute(
                    "UPDATE comments SET status = 'approved' WHERE id = ? AND status <> 'approved'",
                    params![id],
                )?;
                if approved == 1 {
                    let payload = serde_json::json!({"post_id": post_id});
                    outbox::record(c, Kind::CommentApproved, id, &payload, now)?;
                }
            }
            return Ok(found);
        }
        let list: Vec<Value> = ids.iter().map(|&id| id.into()).collect();
        let marks = Conn::placeholders(ids.len());
        let sql = match action {
            Moderation::Spam => {
                format!("UPDATE comments SET status = 'spam' WHERE id IN ({marks})")
            }
            _ => format!("DELETE FROM comments WHERE id IN ({marks})"),
        };
        c.execute(&sql, &list)
    })
}

/// Deletes every comment marked as spam; returns how many.
pub fn delete_spam(c: &mut Conn) -> Result<u64> {
    c.execute("DELETE FROM comments WHERE status = 'spam'", params![])
}

/// Stops reply notifications for comment `id` when `hash` is its
/// unsubscribe token's digest; returns how many comments changed.
pub fn unsubscribe(c: &mut Conn, id: i64, hash: &str) -> Result<u64> {
    c.execute(
        "UPDATE comments SET notify_replies = 0 WHERE id = ? AND unsubscribe_hash = ?",
        params![id, hash],
    )
}

/// Keeps the digest of a fresh unsubscribe token for comment `id`.
pub fn set_unsubscribe_hash(c: &mut Conn, id: i64, hash: &str) -> Result<()> {
    c.execute(
        "UPDATE comments SET unsubscribe_hash = ? WHERE id = ?",
        params![hash, id],
    )?;
    Ok(())
}

/// What the mail about a new comment says.
#[derive(Debug, Clone)]
pub struct Notice {
    pub author_name: String,
    pub body: String,
    pub status: String,
    pub user_id: Option<i64>,
    pub post_title: String,
    pub post_slug: String,
    pub post_author: i64,
}

pub fn notice(c: &mut Conn, id: i64) -> Result<Option<Notice>> {
    c.query_opt(
        "SELECT c.author_name, c.body, c.status, c.user_id, p.title, p.slug, p.author_id FROM comments c \
         JOIN posts p ON p.id = c.post_id WHERE c.id = ?",
        params![id],
    )?
    .map(|r| {
        Ok(Notice {
            author_name: r.get(0)?,
            body: r.get(1)?,
            status: r.get(2)?,
            user_id: r.get(3)?,
            post_title: r.get(4)?,
            post_slug: r.get(5)?,
            post_author: r.get(6)?,
        })
    })
    .transpose()
}

/// An approved reply whose parent's author asked to hear about replies.
#[derive(Debug, Clone)]
pub struct ReplyNotice {
    pub parent_id: i64,
    pub parent_name: String,
    pub parent_email: String,
    pub name: String,
    pub email: String,
    pub body: String,
    pub post_title: String,
    pub post_slug: String,
}

pub fn reply_notice(c: &mut Conn, id: i64) -> Result<Option<ReplyNotice>> {
    c.query_opt(
        "SELECT parent.id, parent.author_name, parent.author_email, child.author_name, child.author_email, child.body, p.title, p.slug \
         FROM comments child JOIN comments parent ON parent.id = child.parent_id JOIN posts p ON p.id = child.post_id \
         WHERE child.id = ? AND child.status = 'approved' AND parent.notify_replies = 1 AND parent.author_email <> ''",
        params![id],
    )?
    .map(|r| {
        Ok(ReplyNotice {
            parent_id: r.get(0)?,
            parent_name: r.get(1)?,
            parent_email: r.get(2)?,
            name: r.get(3)?,
            email: r.get(4)?,
            body: r.get(5)?,
            post_title: r.get(6)?,
            post_slug: r.get(7)?,
        })
    })
    .transpose()
}

/// Creates the comment, or replaces the one of the same post, address and
/// time (a second import of one file changes nothing); returns its id.
/// Imported history records no events: it mails no one.
pub fn upsert_imported(c: &mut Conn, m: &NewComment<'_>) -> Result<i64> {
    let existing = c.query_opt(
        "SELECT id FROM comments WHERE post_id = ? AND author_email = ? AND created_at = ?",
        params![m.post_id, m.author_email, m.created_at],
    )?;
    match existing {
        Some(row) => {
            let id: i64 = row.get(0)?;
            c.execute(
                "UPDATE comments SET parent_id = ?, user_id = ?, author_name = ?, body = ?, body_html = ?, status = ?, \
                 ip = ?, notify_replies = ?, unsubscribe_hash = ? WHERE id = ?",
                params![m.parent_id, m.user_id, m.author_name, m.body, m.body_html, m.status, m.ip,
                    m.notify_replies, m.unsubscribe_hash, id],
            )?;
            Ok(id)
        }
        None => c.insert(
            "INSERT INTO comments (post_id, parent_id, user_id, author_name, author_email, body, body_html, status, \
             created_at, ip, notify_replies, unsubscribe_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![m.post_id, m.parent_id, m.user_id, m.author_name, m.author_email, m.body, m.body_html,
                m.status, m.created_at, m.ip, m.notify_replies, m.unsubscribe_hash],
        ),
    }
}
