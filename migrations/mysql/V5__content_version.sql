-- The sitemap and feeds order by update time.
CREATE INDEX posts_updated ON posts (updated_at);
-- One number that changes with every write to what public pages show. Cached
-- pages are valid while it stays the same (every instance reads it, so none
-- serves a page older than the last write).
CREATE TABLE content_version (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    version BIGINT  NOT NULL
) ENGINE = InnoDB;
INSERT INTO content_version (id, version) VALUES (1, 1);

-- MySQL triggers are per row and cannot name updated columns: the updates that
-- matter are told apart with a condition (<=> is NULL-safe equality).
CREATE TRIGGER posts_version_insert AFTER INSERT ON posts FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER posts_version_update AFTER UPDATE ON posts FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER posts_version_delete AFTER DELETE ON posts FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER pages_version_insert AFTER INSERT ON pages FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER pages_version_update AFTER UPDATE ON pages FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER pages_version_delete AFTER DELETE ON pages FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER tags_version_insert AFTER INSERT ON tags FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER tags_version_update AFTER UPDATE ON tags FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER tags_version_delete AFTER DELETE ON tags FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER post_tags_version_insert AFTER INSERT ON post_tags FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER post_tags_version_delete AFTER DELETE ON post_tags FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER comments_version_insert AFTER INSERT ON comments FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER comments_version_update AFTER UPDATE ON comments FOR EACH ROW
    UPDATE content_version SET version = version + 1
    WHERE NOT (NEW.status <=> OLD.status AND NEW.body_html <=> OLD.body_html
               AND NEW.parent_id <=> OLD.parent_id AND NEW.author_name <=> OLD.author_name);
CREATE TRIGGER comments_version_delete AFTER DELETE ON comments FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER users_version_insert AFTER INSERT ON users FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER users_version_update AFTER UPDATE ON users FOR EACH ROW
    UPDATE content_version SET version = version + 1
    WHERE NOT (NEW.username <=> OLD.username AND NEW.display_name <=> OLD.display_name
               AND NEW.bio <=> OLD.bio AND NEW.avatar <=> OLD.avatar
               AND NEW.role <=> OLD.role AND NEW.is_active <=> OLD.is_active);
CREATE TRIGGER users_version_delete AFTER DELETE ON users FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER site_settings_version_insert AFTER INSERT ON site_settings FOR EACH ROW UPDATE content_version SET version = version + 1;
CREATE TRIGGER site_settings_version_delete AFTER DELETE ON site_settings FOR EACH ROW UPDATE content_version SET version = version + 1;
