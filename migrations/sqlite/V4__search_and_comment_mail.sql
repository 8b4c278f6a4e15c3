-- Plain text of posts and pages (made on save), what search indexes and quotes.
ALTER TABLE posts ADD COLUMN body_text TEXT NOT NULL DEFAULT '';
ALTER TABLE pages ADD COLUMN body_text TEXT NOT NULL DEFAULT '';
UPDATE posts SET body_text = body_markdown;
UPDATE pages SET body_text = body_markdown;

-- Full-text index over posts and pages (SQLite FTS5), kept in sync by triggers so
-- every write — admin, import, anything — updates it. The rowid says what a row
-- is: 2 × id for a post, 2 × id + 1 for a page (so updates find it by key).
CREATE VIRTUAL TABLE search_index USING fts5(
    title,
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO search_index (rowid, title, body) SELECT 2 * id, title, body_text FROM posts;
INSERT INTO search_index (rowid, title, body) SELECT 2 * id + 1, title, body_text FROM pages;

CREATE TRIGGER posts_search_insert AFTER INSERT ON posts BEGIN
    INSERT INTO search_index (rowid, title, body) VALUES (2 * new.id, new.title, new.body_text);
END;
CREATE TRIGGER posts_search_update AFTER UPDATE OF title, body_text ON posts BEGIN
    DELETE FROM search_index WHERE rowid = 2 * old.id;
    INSERT INTO search_index (rowid, title, body) VALUES (2 * new.id, new.title, new.body_text);
END;
CREATE TRIGGER posts_search_delete AFTER DELETE ON posts BEGIN
    DELETE FROM search_index WHERE rowid = 2 * old.id;
END;
CREATE TRIGGER pages_search_insert AFTER INSERT ON pages BEGIN
    INSERT INTO search_index (rowid, title, body) VALUES (2 * new.id + 1, new.title, new.body_text);
END;
CREATE TRIGGER pages_search_update AFTER UPDATE OF title, body_text ON pages BEGIN
    DELETE FROM search_index WHERE rowid = 2 * old.id + 1;
    INSERT INTO search_index (rowid, title, body) VALUES (2 * new.id + 1, new.title, new.body_text);
END;
CREATE TRIGGER pages_search_delete AFTER DELETE ON pages BEGIN
    DELETE FROM search_index WHERE rowid = 2 * old.id + 1;
END;

-- One-click unsubscribe from reply notifications: SHA-256 of the mailed token.
ALTER TABLE comments ADD COLUMN unsubscribe_hash TEXT;
-- The sitemap and feeds order by update time.
CREATE INDEX posts_updated ON posts (updated_at);
