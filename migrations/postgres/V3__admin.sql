-- Site settings edited in the admin; each row overrides the Rocket.toml value.
CREATE TABLE site_settings (
    "key" TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Resized copies of an uploaded image: JSON list of {"width": 400, "file": "name-400.webp"}.
ALTER TABLE media ADD COLUMN variants TEXT NOT NULL DEFAULT '[]';
-- The small square-ish preview shown in the media library.
ALTER TABLE media ADD COLUMN thumb TEXT;
