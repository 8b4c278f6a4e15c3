-- Plain text of posts and pages (made on save), what search indexes and quotes.
ALTER TABLE posts ADD COLUMN body_text MEDIUMTEXT COLLATE utf8mb4_unicode_ci NOT NULL DEFAULT ('');
ALTER TABLE pages ADD COLUMN body_text MEDIUMTEXT COLLATE utf8mb4_unicode_ci NOT NULL DEFAULT ('');
UPDATE posts SET body_text = body_markdown;
UPDATE pages SET body_text = body_markdown;

-- Full-text search: InnoDB FULLTEXT over title and body (what matches), and over
-- the title alone (to rank title matches higher). One index per statement: InnoDB
-- builds them one at a time.
ALTER TABLE posts ADD FULLTEXT INDEX posts_search (title, body_text);
ALTER TABLE posts ADD FULLTEXT INDEX posts_search_title (title);
ALTER TABLE pages ADD FULLTEXT INDEX pages_search (title, body_text);
ALTER TABLE pages ADD FULLTEXT INDEX pages_search_title (title);

-- One-click unsubscribe from reply notifications: SHA-256 of the mailed token.
ALTER TABLE comments ADD COLUMN unsubscribe_hash VARCHAR(64);
