-- Plain text of posts and pages (made on save), what search indexes and quotes.
ALTER TABLE posts ADD COLUMN body_text TEXT NOT NULL DEFAULT '';
ALTER TABLE pages ADD COLUMN body_text TEXT NOT NULL DEFAULT '';
UPDATE posts SET body_text = body_markdown;
UPDATE pages SET body_text = body_markdown;

-- Full-text search: a generated tsvector per row (title weight A, body weight B),
-- so every write keeps it current, and a GIN index over it. The 'simple'
-- configuration does no stemming, like SQLite's unicode61 tokenizer.
ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body_text), 'B')
) STORED;
ALTER TABLE pages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body_text), 'B')
) STORED;
CREATE INDEX posts_search ON posts USING GIN (search_vector);
CREATE INDEX pages_search ON pages USING GIN (search_vector);

-- One-click unsubscribe from reply notifications: SHA-256 of the mailed token.
ALTER TABLE comments ADD COLUMN unsubscribe_hash TEXT;
