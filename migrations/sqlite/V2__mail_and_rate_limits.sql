-- The outgoing mail queue: every mail goes through it, is retried with back-off,
-- and stays here (status 'failed') when it cannot be delivered.
CREATE TABLE mail_queue (
    id              INTEGER PRIMARY KEY,
    to_addr         TEXT    NOT NULL,
    reply_to        TEXT,
    subject         TEXT    NOT NULL,
    body_text       TEXT    NOT NULL,
    body_html       TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX mail_queue_due ON mail_queue (status, next_attempt_at);

-- Fixed-window counters for rate limits, shared by every instance on the database.
CREATE TABLE rate_limits (
    bucket       TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    window_start BIGINT  NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (bucket, subject, window_start)
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);
