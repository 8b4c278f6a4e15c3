//! The dispatcher: after commit, hands each recorded event to the subscribers
//! of its kind, once; and runs the domains' clocks (work that comes due with
//! time, such as a scheduled post going public).
//!
//! Exactly once: an event is claimed and its subscribers run inside one
//! transaction (`outbox::claim` locks the row), so their writes (mails queued,
//! deliveries fanned out) commit together with the claim or not at all.
//! Subscribers therefore only write to the database; what talks to the
//! network (the mail worker…) works from what they wrote. Another instance on
//! the same database that reaches the event waits for the claim, then skips it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rocket::fairing::{AdHoc, Fairing};
use rocket::tokio;

use super::{outbox, Event, Kind};
use crate::db::{Conn, Db};
use crate::error::Result;
use crate::ground::dates;

/// What a subscriber does with an event, inside the claiming transaction.
pub type Handle = Arc<dyn Fn(&mut Conn, &Event) -> Result<()> + Send + Sync>;

/// Work that comes due with time (`now` given): records its own events and
/// says when it next has work, if it knows.
pub type Clock = fn(&mut Conn, i64) -> Result<Option<i64>>;

/// One subscriber: its name (for logs), the kinds it handles, and what to do
/// once its writes are committed (wake the worker that acts on them).
#[derive(Clone)]
pub struct Subscriber {
    pub name: &'static str,
    pub kinds: &'static [Kind],
    pub handle: Handle,
    pub after: Option<Arc<dyn Fn() + Send + Sync>>,
}

/// The longest a waiting event or clock goes unnoticed when this process
/// writes nothing (events recorded by another instance or by `carnet import`).
const POLL: Duration = Duration::from_secs(1);
/// How often the loop looks at this process's write counter.
const WATCH: Duration = Duration::from_millis(25);
/// Attempts before an event is given up (kept as `failed`).
const MAX_ATTEMPTS: u32 = 8;
/// Events handled per batch.
const BATCH: u32 = 50;

#[derive(Clone)]
pub struct Dispatcher {
    subscribers: Arc<Vec<Subscriber>>,
    clocks: Arc<Vec<Clock>>,
    /// Who claims events, for `handled_by`.
    instance: Arc<str>,
}

impl Dispatcher {
    pub fn new(subscribers: Vec<Subscriber>, clocks: Vec<Clock>) -> Self {
        let tag = crate::ground::tokens::random_token();
        Dispatcher {
            subscribers: Arc::new(subscribers),
            clocks: Arc::new(clocks),
            instance: format!("pid {} ({})", std::process::id(), &tag[..8]).into(),
        }
    }

    /// Runs the clocks, then handles every event due: returns how many events
    /// this call handled and when there is next something to do.
    pub fn tick(&self, c: &mut Conn, now: i64) -> Result<(usize, Option<i64>)> {
        let mut next: Option<i64> = None;
        for clock in self.clocks.iter() {
            if let Some(at) = clock(c, now)? {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        let mut handled = 0;
        loop {
            let due = outbox::due(c, now, BATCH)?;
            let full = due.len() == BATCH as usize;
            for id in due {
                if self.handle_one(c, id, now)? {
                    handled += 1;
                }
            }
            if !full {
                break;
            }
        }
        if let Some(at) = outbox::next_due(c)? {
            next = Some(next.map_or(at, |n| n.min(at)));
        }
        Ok((handled, next))
    }

    /// Claims event `id` and runs its subscribers in one transaction; on an
    /// error, nothing of it stays and the event is retried later.
    fn handle_one(&self, c: &mut Conn, id: i64, now: i64) -> Result<bool> {
        let outcome = c.transaction(|c| {
            let Some(event) = outbox::claim(c, id, &self.instance, now)? else {
                return Ok(None);
            };
            for s in self
                .subscribers
                .iter()
                .filter(|s| s.kinds.contains(&event.kind))
            {
                if let Err(e) = (s.handle)(c, &event) {
                    log::warn!("event {} {} ({}): {e}", event.id, event.kind, s.name);
                    return Err(e);
                }
            }
            Ok(Some(event.kind))
        });
        match outcome {
            Ok(None) => Ok(false),
            Ok(Some(kind)) => {
                for s in self.subscribers.iter().filter(|s| s.kinds.contains(&kind)) {
                    if let Some(after) = &s.after {
                        after();
                    }
                }
                Ok(true)
            }
            Err(e) => {
                let attempts = outbox::attempts(c, id)? + 1;
                let retry_at =
                    (attempts < MAX_ATTEMPTS).then(|| now + dates::backoff(5, attempts - 1));
                if retry_at.is_none() {
                    log::error!("event {id}: giving up after {attempts} attempts: {e}");
                }
                outbox::failed(c, id, &e.to_string(), retry_at)?;
                Ok(false)
            }
        }
    }

    /// Runs forever: a tick after every write this process makes, when
    /// something comes due, and at least every `POLL`.
    pub async fn run(self, db: Db) {
        let mut seen = None;
        let mut next: Option<i64> = None;
        let mut last: Option<Instant> = None;
        loop {
            let writes = db.writes();
            let wanted = seen != Some(writes)
                || next.is_some_and(|at| at <= dates::now())
                || last.is_none_or(|at| at.elapsed() >= POLL);
            if wanted {
                seen = Some(writes);
                last = Some(Instant::now());
                let me = self.clone();
                match db.run(move |c| me.tick(c, dates::now())).await {
                    Ok((_, at)) => next = at,
                    Err(e) => log::error!("events: {e}"),
                }
            }
            tokio::time::sleep(WATCH).await;
        }
    }
}

/// Starts the dispatcher with the server.
pub fn fairing(db: Db, dispatcher: Dispatcher) -> impl Fairing {
    AdHoc::on_liftoff("Event dispatcher", move |_| {
        let (db, dispatcher) = (db.clone(), dispatcher);
        Box::pin(async move {
            tokio::spawn(dispatcher.run(db));
        })
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::error::Error;

    fn database() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&format!("sqlite://{}", dir.path().join("t.db").display())).unwrap();
        crate::db::migrations::apply(&db).unwrap();
        (dir, db)
    }

    fn status(c: &mut Conn, id: i64) -> (String, i64) {
        let r = c
            .query_opt(
                "SELECT status, attempts FROM events WHERE id = ?",
                crate::params![id],
            )
            .unwrap()
            .unwrap();
        (r.get(0).unwrap(), r.get(1).unwrap())
    }

    /// A failing subscriber leaves nothing behind and is tried again after a
    /// back-off; once it succeeds the event is done and never handled again;
    /// subscribers of other kinds are not called.
    #[test]
    fn a_failed_event_is_retried_then_handled_once() {
        let (_dir, db) = database();
        let mut c = db.conn().unwrap();
        let now = 1_700_000_000;
        let id =
            outbox::record(&mut c, Kind::CommentPosted, 7, &serde_json::json!({}), now).unwrap();
        let calls = Arc::new(AtomicU32::new(0));
        let others = Arc::new(AtomicU32::new(0));
        let seen = calls.clone();
        let other = others.clone();
        let dispatcher = Dispatcher::new(
            vec![
                Subscriber {
                    name: "flaky",
                    kinds: &[Kind::CommentPosted],
                    handle: Arc::new(move |_, event| {
                        assert_eq!(event.subject_id, 7);
                        match seen.fetch_add(1, Ordering::SeqCst) {
                            0 => Err(Error::internal("test", "first try fails")),
                            _ => Ok(()),
                        }
                    }),
                    after: None,
                },
                Subscriber {
                    name: "posts only",
                    kinds: &[Kind::PostPublished],
                    handle: Arc::new(move |_, _| {
                        other.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    }),
                    after: None,
                },
            ],
            Vec::new(),
        );
        let (handled, next) = dispatcher.tick(&mut c, now).unwrap();
        assert_eq!(handled, 0);
        assert_eq!(status(&mut c, id), ("pending".into(), 1));
        assert_eq!(next, Some(now + 5), "retried after the back-off");
        assert_eq!(dispatcher.tick(&mut c, now + 1).unwrap().0, 0, "not before");
        assert_eq!(dispatcher.tick(&mut c, now + 5).unwrap().0, 1);
        assert_eq!(status(&mut c, id).0, "done");
        assert_eq!(dispatcher.tick(&mut c, now + 60).unwrap().0, 0);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(others.load(Ordering::SeqCst), 0);
    }

    /// A second dispatcher (another instance) finds a handled event done.
    #[test]
    fn an_event_is_claimed_once() {
        let (_dir, db) = database();
        let mut c = db.conn().unwrap();
        let now = 1_700_000_000;
        let id = outbox::record(&mut c, Kind::PostDeleted, 1, &serde_json::json!({}), now).unwrap();
        let first = outbox::claim(&mut c, id, "a", now).unwrap();
        assert!(first.is_some_and(|e| e.kind == Kind::PostDeleted));
        assert!(outbox::claim(&mut c, id, "b", now).unwrap().is_none());
        // A late failure report from an instance that lost the race changes nothing.
        outbox::failed(&mut c, id, "late", None).unwrap();
        assert_eq!(status(&mut c, id), ("done".into(), 0));
    }
}
