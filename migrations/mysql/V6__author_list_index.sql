-- An author's page lists their posts newest first with the id as tie-breaker:
-- the index now holds the whole order, so no sort and no walk of other
-- authors' posts. (Created before the old one is dropped: the foreign key on
-- author_id needs an index at every moment.)
CREATE INDEX posts_author_list ON posts (author_id, status, published_at DESC, id DESC);
DROP INDEX posts_author ON posts;
