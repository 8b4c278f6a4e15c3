-- An author's page lists their posts newest first with the id as tie-breaker:
-- the index now holds the whole order, so no sort and no walk of other
-- authors' posts.
CREATE INDEX posts_author_list ON posts (author_id, status, published_at DESC, id DESC);
DROP INDEX posts_author;
