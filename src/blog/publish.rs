//! The one publish path. Creating, editing, publishing (now, or when a
//! scheduled time comes), unpublishing and deleting a post go through these
//! functions, whoever asks: the editor, an import, and the writing apps and
//! servers to come. Each records what the change means for the outside world
//! as an event (`events::outbox`), in the same transaction as the change:
//!
//! | before → after (public = published and its time has come) | event |
//! |---|---|
//! | not announced → public | `PostPublished` (`first`: never public before) |
//! | announced → public (edited) | `PostUpdated` |
//! | announced → not public (draft, or moved to the future) | `PostUnpublished` |
//! | deleted | `PostDeleted` |
//!
//! A post scheduled for later is announced by `release_due`, the dispatcher's
//! clock, when its time comes, also when that time passed while Carnet was
//! stopped. Imported history (`Events::Off`) is marked as announced without
//! events: moving a blog in mails and federates nothing.

use serde_json::json;

use super::body::render_body;
use super::posts::{self, LiveState, PostInput};
use super::tags;
use crate::db::Conn;
use crate::error::{Error, Result};
use crate::events::{outbox, Kind};
use crate::ground::markdown::Rendered;

/// Whether a change records events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Events {
    Record,
    /// Imported history: the post's state is kept, nothing is announced.
    Off,
}

/// Creates the post (`id` = None) or replaces post `id`, with its tags;
/// returns its id. The caller has made the slug unique (`posts::free_slug`)
/// and rendered the body (`blog::body::render_body`) before any transaction:
/// rendering never runs while the database's write lock is held.
pub fn save(
    c: &mut Conn,
    id: Option<i64>,
    input: &PostInput,
    rendered: &Rendered,
    tag_ids: &[i64],
    now: i64,
    events: Events,
) -> Result<i64> {
    c.transaction(|c| {
        let id = posts::write_row(c, id, input, rendered, now)?;
        tags::set_post_tags(c, id, tag_ids)?;
        settle(c, id, now, events)?;
        Ok(id)
    })
}

/// Imports a post: creates it, or replaces the one with the same slug,
/// keeping the file's creation and change times. Records no events.
pub fn save_imported(
    c: &mut Conn,
    input: &PostInput,
    tag_ids: &[i64],
    created: i64,
    updated: i64,
    now: i64,
) -> Result<i64> {
    // An import is one transaction as a whole: its bodies render inside it.
    let rendered = render_body(c, &input.body_markdown)?;
    c.transaction(|c| {
        let existing = posts::id_by_slug(c, &input.slug)?;
        let id = save(c, existing, input, &rendered, tag_ids, now, Events::Off)?;
        posts::set_post_times(c, id, created, updated)?;
        Ok(id)
    })
}

/// Deletes post `id`; false when there was none.
pub fn delete(c: &mut Conn, id: i64, now: i64) -> Result<bool> {
    c.transaction(|c| {
        let Some(before) = posts::live_state(c, id)? else {
            return Ok(false);
        };
        if !posts::delete_row(c, id)? {
            return Ok(false);
        }
        let payload =
            json!({"slug": before.slug, "title": before.title, "was_public": before.live});
        outbox::record(c, Kind::PostDeleted, id, &payload, now)?;
        Ok(true)
    })
}

/// The dispatcher's clock for the blog: announces every post whose time has
/// come (one transaction each, so two instances never announce one twice);
/// returns when the next scheduled post is due.
pub fn release_due(c: &mut Conn, now: i64) -> Result<Option<i64>> {
    loop {
        let due = posts::due_unannounced(c, now, 50)?;
        if due.is_empty() {
            break;
        }
        for id in due {
            c.transaction(|c| {
                let Some(state) = posts::live_state(c, id)? else {
                    return Ok(());
                };
                if posts::go_live_if_due(c, id, now)? {
                    announce(c, id, &state, now)?;
                }
                Ok(())
            })?;
        }
    }
    posts::next_scheduled(c, now)
}

/// Compares what readers see now with what was announced, and records the
/// difference.
fn settle(c: &mut Conn, id: i64, now: i64, events: Events) -> Result<()> {
    let state = posts::live_state(c, id)?
        .ok_or_else(|| Error::internal("publish", format!("post {id} vanished")))?;
    let public = state.public_at(now);
    if public != state.live {
        posts::set_live(c, id, public, now)?;
    }
    if events == Events::Off {
        return Ok(());
    }
    let payload = json!({"slug": state.slug, "title": state.title});
    match (state.live, public) {
        (false, true) => announce(c, id, &state, now)?,
        (true, true) => {
            outbox::record(c, Kind::PostUpdated, id, &payload, now)?;
        }
        (true, false) => {
            outbox::record(c, Kind::PostUnpublished, id, &payload, now)?;
        }
        (false, false) => {}
    }
    Ok(())
}

/// Records `PostPublished` for a post going public (`state` as it was before).
fn announce(c: &mut Conn, id: i64, state: &LiveState, now: i64) -> Result<()> {
    let payload = json!({
        "slug": state.slug,
        "title": state.title,
        "first": state.first_live_at.is_none(),
    });
    outbox::record(c, Kind::PostPublished, id, &payload, now)?;
    Ok(())
}
