-- Carnet's initial schema (SQLite). Times are Unix seconds (UTC) in BIGINT columns,
-- booleans are 0/1 integers: the same shapes on every backend.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    username        TEXT    NOT NULL UNIQUE,
    email           TEXT    NOT NULL UNIQUE,
    display_name    TEXT    NOT NULL DEFAULT '',
    bio             TEXT    NOT NULL DEFAULT '',
    avatar          TEXT,
    password_hash   TEXT,
    role            TEXT    NOT NULL DEFAULT 'member'
                    CHECK (role IN ('admin', 'editor', 'author', 'member')),
    is_active       INTEGER NOT NULL DEFAULT 1,
    email_confirmed INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX users_role ON users (role);

CREATE TABLE sessions (
    id            TEXT    PRIMARY KEY,            -- SHA-256 of the cookie value, never the value
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token    TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    last_seen_at  BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL,
    ip            TEXT,
    user_agent    TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE tags (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL,
    slug  TEXT NOT NULL UNIQUE
);

CREATE TABLE posts (
    id               INTEGER PRIMARY KEY,
    title            TEXT    NOT NULL,
    slug             TEXT    NOT NULL UNIQUE,
    body_markdown    TEXT    NOT NULL DEFAULT '',
    body_html        TEXT    NOT NULL DEFAULT '',
    excerpt          TEXT    NOT NULL DEFAULT '',
    custom_excerpt   TEXT,
    cover_image      TEXT,
    status           TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    published_at     BIGINT,
    author_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    comments_enabled INTEGER NOT NULL DEFAULT 1,
    reading_minutes  INTEGER NOT NULL DEFAULT 1,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);
-- The public lists: newest published first, overall and per author.
CREATE INDEX posts_public ON posts (status, published_at DESC, id DESC);
CREATE INDEX posts_author ON posts (author_id, status, published_at DESC);

CREATE TABLE post_tags (
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    tag_id  INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (post_id, tag_id)
);
CREATE INDEX post_tags_tag ON post_tags (tag_id, post_id);

CREATE TABLE pages (
    id            INTEGER PRIMARY KEY,
    title         TEXT    NOT NULL,
    slug          TEXT    NOT NULL UNIQUE,
    body_markdown TEXT    NOT NULL DEFAULT '',
    body_html     TEXT    NOT NULL DEFAULT '',
    status        TEXT    NOT NULL DEFAULT 'published' CHECK (status IN ('draft', 'published')),
    show_in_nav   INTEGER NOT NULL DEFAULT 1,
    nav_order     INTEGER NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

CREATE TABLE comments (
    id             INTEGER PRIMARY KEY,
    post_id        INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    parent_id      INTEGER REFERENCES comments (id) ON DELETE CASCADE,
    user_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    author_name    TEXT    NOT NULL DEFAULT '',
    author_email   TEXT    NOT NULL DEFAULT '',
    body           TEXT    NOT NULL,
    body_html      TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'spam')),
    ip             TEXT,
    notify_replies INTEGER NOT NULL DEFAULT 0,
    created_at     BIGINT  NOT NULL
);
-- A post's thread and its approved count; the moderation queue; import's identity key.
CREATE INDEX comments_post ON comments (post_id, status, created_at);
CREATE INDEX comments_status ON comments (status, created_at);
CREATE INDEX comments_identity ON comments (post_id, author_email, created_at);
CREATE INDEX comments_parent ON comments (parent_id);

CREATE TABLE media (
    id            INTEGER PRIMARY KEY,
    file_name     TEXT    NOT NULL UNIQUE,
    original_name TEXT    NOT NULL DEFAULT '',
    mime          TEXT    NOT NULL,
    size_bytes    BIGINT  NOT NULL,
    width         INTEGER,
    height        INTEGER,
    uploader_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX media_created ON media (created_at);

CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('confirm_email', 'password_reset', 'change_email')),
    token_hash  TEXT    NOT NULL UNIQUE,      -- SHA-256 of the token sent by mail
    data        TEXT,                         -- e.g. the new address for change_email
    expires_at  BIGINT  NOT NULL,
    used_at     BIGINT,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX tokens_user ON tokens (user_id, kind);
