-- One number that changes with every write to what public pages show. Cached
-- pages are valid while it stays the same (every instance reads it, so none
-- serves a page older than the last write).
CREATE TABLE content_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO content_version (id, version) VALUES (1, 1);

CREATE TRIGGER posts_version_insert AFTER INSERT ON posts BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER posts_version_update AFTER UPDATE ON posts BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER posts_version_delete AFTER DELETE ON posts BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER pages_version_insert AFTER INSERT ON pages BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER pages_version_update AFTER UPDATE ON pages BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER pages_version_delete AFTER DELETE ON pages BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER tags_version_insert AFTER INSERT ON tags BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER tags_version_update AFTER UPDATE ON tags BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER tags_version_delete AFTER DELETE ON tags BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER post_tags_version_insert AFTER INSERT ON post_tags BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER post_tags_version_delete AFTER DELETE ON post_tags BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER comments_version_insert AFTER INSERT ON comments BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER comments_version_update AFTER UPDATE OF status, body_html, parent_id, author_name ON comments BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER comments_version_delete AFTER DELETE ON comments BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER users_version_insert AFTER INSERT ON users BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER users_version_update AFTER UPDATE OF username, display_name, bio, avatar, role, is_active ON users BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER users_version_delete AFTER DELETE ON users BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER site_settings_version_insert AFTER INSERT ON site_settings BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER site_settings_version_delete AFTER DELETE ON site_settings BEGIN UPDATE content_version SET version = version + 1; END;
