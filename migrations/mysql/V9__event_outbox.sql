-- The event outbox: what happened to posts and comments, recorded in the
-- transaction that made it happen, then handled once, after commit, by
-- whichever instance claims it first (newsletter, federation, mail…).
CREATE TABLE events (
    id              BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind            VARCHAR(40) NOT NULL,
    subject_id      BIGINT      NOT NULL,
    payload         MEDIUMTEXT  NOT NULL,
    status          VARCHAR(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at BIGINT      NOT NULL,
    last_error      TEXT,
    created_at      BIGINT      NOT NULL,
    handled_at      BIGINT,
    handled_by      VARCHAR(100),
    INDEX events_due (status, next_attempt_at),
    INDEX events_subject (subject_id, kind)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Whether a post's going public has been announced (a `PostPublished` event),
-- and when that first happened: a scheduled post whose time came while Carnet
-- was stopped is announced when it starts, once.
ALTER TABLE posts ADD COLUMN live SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN first_live_at BIGINT;
UPDATE posts SET live = 1, first_live_at = published_at
    WHERE status = 'published' AND published_at <= UNIX_TIMESTAMP();
CREATE INDEX posts_due ON posts (live, status, published_at);
