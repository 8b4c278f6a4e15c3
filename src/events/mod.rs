//! Domain events and their outbox.
//!
//! Whatever changes a post or a comment in a way the outside world may care
//! about records an event in the same transaction (`outbox::record`): if the
//! change commits, so does the event; if it rolls back, no event exists. After
//! commit the dispatcher (`dispatch`) hands each event to every subscriber
//! once, whichever instance gets to it first, also after a restart.
//!
//! This module knows nothing of the domains: they give it their subscribers
//! and their scheduled work at start-up (`lib.rs`).

pub mod dispatch;
pub mod outbox;

use serde_json::Value;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A post became public: published now, or its scheduled time came.
    /// `payload.first` is true the first time the post ever went public.
    PostPublished,
    /// A public post was edited.
    PostUpdated,
    /// A public post went back to draft or to a future date.
    PostUnpublished,
    /// A post was deleted (`payload.was_public` says whether readers saw it).
    PostDeleted,
    /// A comment was received (any state but dropped).
    CommentPosted,
    /// A comment became visible to readers.
    CommentApproved,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::PostPublished,
        Kind::PostUpdated,
        Kind::PostUnpublished,
        Kind::PostDeleted,
        Kind::CommentPosted,
        Kind::CommentApproved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PostPublished => "PostPublished",
            Kind::PostUpdated => "PostUpdated",
            Kind::PostUnpublished => "PostUnpublished",
            Kind::PostDeleted => "PostDeleted",
            Kind::CommentPosted => "CommentPosted",
            Kind::CommentApproved => "CommentApproved",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recorded event.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: i64,
    pub kind: Kind,
    /// The post or comment it is about.
    pub subject_id: i64,
    /// What subscribers need that the row may no longer hold (a deleted
    /// post's slug…).
    pub payload: Value,
    pub created_at: i64,
}
