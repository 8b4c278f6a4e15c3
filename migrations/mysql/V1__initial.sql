-- Carnet's initial schema (MySQL 8.0.16+ / MariaDB 10.5+). Same tables,
-- constraints and indexes as migrations/sqlite: times are Unix seconds (UTC) in
-- BIGINT columns, booleans are 0/1 small integers. Text is utf8mb4 with binary
-- collation (compared and sorted like SQLite); indexed text is VARCHAR, sized
-- above what Carnet accepts. Connections run in ANSI_QUOTES mode.

CREATE TABLE users (
    id              BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username        VARCHAR(150) NOT NULL UNIQUE,
    email           VARCHAR(254) NOT NULL UNIQUE,
    display_name    TEXT         NOT NULL DEFAULT (''),
    bio             TEXT         NOT NULL DEFAULT (''),
    avatar          TEXT,
    password_hash   TEXT,
    role            VARCHAR(16)  NOT NULL DEFAULT 'member'
                    CHECK (role IN ('admin', 'editor', 'author', 'member')),
    is_active       SMALLINT     NOT NULL DEFAULT 1,
    email_confirmed SMALLINT     NOT NULL DEFAULT 0,
    created_at      BIGINT       NOT NULL,
    updated_at      BIGINT       NOT NULL,
    INDEX users_role (role)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE sessions (
    id            VARCHAR(64) NOT NULL PRIMARY KEY,   -- SHA-256 of the cookie value, never the value
    user_id       BIGINT      NOT NULL,
    csrf_token    TEXT        NOT NULL,
    created_at    BIGINT      NOT NULL,
    last_seen_at  BIGINT      NOT NULL,
    expires_at    BIGINT      NOT NULL,
    ip            TEXT,
    user_agent    TEXT,
    INDEX sessions_user (user_id),
    INDEX sessions_expires (expires_at),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE tags (
    id    BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name  TEXT         NOT NULL,
    slug  VARCHAR(191) NOT NULL UNIQUE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE posts (
    id               BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    -- Searched with FULLTEXT: a case- and accent-insensitive collation.
    title            TEXT         COLLATE utf8mb4_unicode_ci NOT NULL,
    slug             VARCHAR(191) NOT NULL UNIQUE,
    body_markdown    MEDIUMTEXT   NOT NULL DEFAULT (''),
    body_html        MEDIUMTEXT   NOT NULL DEFAULT (''),
    excerpt          TEXT         NOT NULL DEFAULT (''),
    custom_excerpt   TEXT,
    cover_image      TEXT,
    status           VARCHAR(16)  NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    published_at     BIGINT,
    author_id        BIGINT       NOT NULL,
    comments_enabled SMALLINT     NOT NULL DEFAULT 1,
    reading_minutes  INTEGER      NOT NULL DEFAULT 1,
    created_at       BIGINT       NOT NULL,
    updated_at       BIGINT       NOT NULL,
    -- The public lists: newest published first, overall and per author.
    INDEX posts_public (status, published_at DESC, id DESC),
    INDEX posts_author (author_id, status, published_at DESC),
    FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE RESTRICT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE post_tags (
    post_id BIGINT NOT NULL,
    tag_id  BIGINT NOT NULL,
    PRIMARY KEY (post_id, tag_id),
    INDEX post_tags_tag (tag_id, post_id),
    FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE,
    FOREIGN KEY (tag_id) REFERENCES tags (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE pages (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    title         TEXT         COLLATE utf8mb4_unicode_ci NOT NULL,
    slug          VARCHAR(191) NOT NULL UNIQUE,
    body_markdown MEDIUMTEXT   NOT NULL DEFAULT (''),
    body_html     MEDIUMTEXT   NOT NULL DEFAULT (''),
    status        VARCHAR(16)  NOT NULL DEFAULT 'published' CHECK (status IN ('draft', 'published')),
    show_in_nav   SMALLINT     NOT NULL DEFAULT 1,
    nav_order     INTEGER      NOT NULL DEFAULT 0,
    created_at    BIGINT       NOT NULL,
    updated_at    BIGINT       NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE comments (
    id             BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    post_id        BIGINT       NOT NULL,
    parent_id      BIGINT,
    user_id        BIGINT,
    author_name    TEXT         NOT NULL DEFAULT (''),
    author_email   VARCHAR(254) NOT NULL DEFAULT '',
    body           TEXT         NOT NULL,
    body_html      MEDIUMTEXT   NOT NULL DEFAULT (''),
    status         VARCHAR(16)  NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'spam')),
    ip             TEXT,
    notify_replies SMALLINT     NOT NULL DEFAULT 0,
    created_at     BIGINT       NOT NULL,
    -- A post's thread and its approved count; the moderation queue; import's identity key.
    INDEX comments_post (post_id, status, created_at),
    INDEX comments_status (status, created_at),
    INDEX comments_identity (post_id, author_email, created_at),
    INDEX comments_parent (parent_id),
    FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE,
    FOREIGN KEY (parent_id) REFERENCES comments (id) ON DELETE CASCADE,
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE media (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    file_name     VARCHAR(255) NOT NULL UNIQUE,
    original_name TEXT         NOT NULL DEFAULT (''),
    mime          VARCHAR(100) NOT NULL,
    size_bytes    BIGINT       NOT NULL,
    width         INTEGER,
    height        INTEGER,
    uploader_id   BIGINT,
    created_at    BIGINT       NOT NULL,
    INDEX media_created (created_at),
    FOREIGN KEY (uploader_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE tokens (
    id          BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id     BIGINT      NOT NULL,
    kind        VARCHAR(32) NOT NULL CHECK (kind IN ('confirm_email', 'password_reset', 'change_email')),
    token_hash  VARCHAR(64) NOT NULL UNIQUE,      -- SHA-256 of the token sent by mail
    data        TEXT,                             -- e.g. the new address for change_email
    expires_at  BIGINT      NOT NULL,
    used_at     BIGINT,
    created_at  BIGINT      NOT NULL,
    INDEX tokens_user (user_id, kind),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
