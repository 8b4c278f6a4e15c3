-- The sitemap and feeds order by update time.
CREATE INDEX posts_updated ON posts (updated_at);
-- One number that changes with every write to what public pages show. Cached
-- pages are valid while it stays the same (every instance reads it, so none
-- serves a page older than the last write).
CREATE TABLE content_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT  NOT NULL
);
INSERT INTO content_version (id, version) VALUES (1, 1);

CREATE FUNCTION carnet_bump_content_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE content_version SET version = version + 1;
    RETURN NULL;
END;
$$;

-- Statement-level: one bump per statement, however many rows it touches.
CREATE TRIGGER posts_version AFTER INSERT OR UPDATE OR DELETE ON posts
    FOR EACH STATEMENT EXECUTE FUNCTION carnet_bump_content_version();
CREATE TRIGGER pages_version AFTER INSERT OR UPDATE OR DELETE ON pages
    FOR EACH STATEMENT EXECUTE FUNCTION carnet_bump_content_version();
CREATE TRIGGER tags_version AFTER INSERT OR UPDATE OR DELETE ON tags
    FOR EACH STATEMENT EXECUTE FUNCTION carnet_bump_content_version();
CREATE TRIGGER post_tags_version AFTER INSERT OR DELETE ON post_tags
    FOR EACH STATEMENT EXECUTE FUNCTION carnet_bump_content_version();
CREATE TRIGGER comments_version AFTER INSERT OR DELETE OR UPDATE OF status, body_html, parent_id, author_name ON comments
    FOR EACH STATEMENT EXECUTE FUNCTION carnet_bump_content_version();
CREATE TRIGGER users_version AFTER INSERT OR DELETE OR UPDATE OF username, display_name, bio, avatar, role, is_active ON users
    FOR EACH STATEMENT EXECUTE FUNCTION carnet_bump_content_version();
CREATE TRIGGER site_settings_version AFTER INSERT OR DELETE ON site_settings
    FOR EACH STATEMENT EXECUTE FUNCTION carnet_bump_content_version();
