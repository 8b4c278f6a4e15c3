-- The event outbox: what happened to posts and comments, recorded in the
-- transaction that made it happen, then handled once, after commit, by
-- whichever instance claims it first (newsletter, federation, mail…).
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,
    subject_id      BIGINT  NOT NULL,
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    handled_at      BIGINT,
    handled_by      TEXT
);
CREATE INDEX events_due ON events (status, next_attempt_at);
CREATE INDEX events_subject ON events (subject_id, kind);

-- Whether a post's going public has been announced (a `PostPublished` event),
-- and when that first happened: a scheduled post whose time came while Carnet
-- was stopped is announced when it starts, once.
ALTER TABLE posts ADD COLUMN live INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN first_live_at BIGINT;
UPDATE posts SET live = 1, first_live_at = published_at
    WHERE status = 'published' AND published_at <= CAST(strftime('%s', 'now') AS INTEGER);
CREATE INDEX posts_due ON posts (live, status, published_at);
