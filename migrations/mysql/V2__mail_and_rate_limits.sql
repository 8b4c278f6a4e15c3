-- The outgoing mail queue: every mail goes through it, is retried with back-off,
-- and stays here (status 'failed') when it cannot be delivered.
CREATE TABLE mail_queue (
    id              BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    to_addr         TEXT        NOT NULL,
    reply_to        TEXT,
    subject         TEXT        NOT NULL,
    body_text       MEDIUMTEXT  NOT NULL,
    body_html       MEDIUMTEXT  NOT NULL,
    status          VARCHAR(16) NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at BIGINT      NOT NULL,
    last_error      TEXT,
    created_at      BIGINT      NOT NULL,
    sent_at         BIGINT,
    INDEX mail_queue_due (status, next_attempt_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Fixed-window counters for rate limits, shared by every instance on the database.
CREATE TABLE rate_limits (
    bucket       VARCHAR(64)  NOT NULL,
    subject      VARCHAR(255) NOT NULL,
    window_start BIGINT       NOT NULL,
    hits         INTEGER      NOT NULL,
    PRIMARY KEY (bucket, subject, window_start),
    INDEX rate_limits_window (window_start)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
