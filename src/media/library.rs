//! The media library: uploads turned into safe, re-encoded files with resized
//! variants (for `srcset`) and a thumbnail, all under random names.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageFormat};
use serde::{Deserialize, Serialize};

use super::images::{self, Refusal};
use crate::db::{Conn, Row};
use crate::error::Result;
use crate::ground::dates;
use crate::params;
use crate::transfer::format::{MediaRecord, VariantRecord};

/// Widths of the resized copies used in `srcset`.
pub const WIDTHS: [u32; 3] = [400, 800, 1600];
pub const THUMB_WIDTH: u32 = 320;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub width: u32,
    pub file: String,
}

/// A stored file, as the library lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Media {
    pub id: i64,
    pub file_name: String,
    pub original_name: String,
    pub mime: String,
    pub size_bytes: i64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub thumb: Option<String>,
    pub variants: Vec<Variant>,
    /// Who uploaded it (`None` for an account since deleted).
    #[serde(skip)]
    pub uploader_id: Option<i64>,
    pub created_at: i64,
}

/// Files written for one upload, ready to be recorded.
#[derive(Debug, Clone)]
pub struct Processed {
    pub file_name: String,
    pub mime: &'static str,
    pub size_bytes: u64,
    pub width: u32,
    pub height: u32,
    pub thumb: String,
    pub variants: Vec<Variant>,
}

fn encode(img: &DynamicImage, format: ImageFormat) -> std::result::Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    let result = if format == ImageFormat::Jpeg {
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
        match img {
            // What JPEG decodes to: encoded as is, no full-size copy.
            DynamicImage::ImageRgb8(_) | DynamicImage::ImageLuma8(_) => {
                img.write_with_encoder(encoder)
            }
            _ => img.to_rgb8().write_with_encoder(encoder),
        }
    } else {
        img.write_to(&mut Cursor::new(&mut out), format)
    };
    result.map_err(|e| Refusal::Unprocessable(format!("the image cannot be encoded: {e}")))?;
    Ok(out)
}

fn extension(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "jpg",
        ImageFormat::WebP => "webp",
        _ => "png",
    }
}

fn mime(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::WebP => "image/webp",
        _ => "image/png",
    }
}

/// Writes files into `dir` through temporary files renamed into place; on any
/// error, removes what was written, so a refused upload leaves nothing behind.
struct Writer {
    dir: PathBuf,
    written: Vec<PathBuf>,
}

impl Writer {
    fn write(&mut self, name: &str, bytes: &[u8]) -> std::result::Result<(), Refusal> {
        let fail =
            |e: std::io::Error| Refusal::Unprocessable(format!("the file could not be saved: {e}"));
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir).map_err(fail)?;
        std::io::Write::write_all(&mut tmp, bytes).map_err(fail)?;
        // Files meant for the public: readable by a proxy serving /media/
        // from disk (the temporary file is 0600 while it is written).
        public(tmp.as_file()).map_err(fail)?;
        let path = self.dir.join(name);
        tmp.persist(&path).map_err(|e| fail(e.error))?;
        self.written.push(path);
        Ok(())
    }

    fn abandon(self) {
        for path in self.written {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Gives a stored media file its public mode, 0644.
pub(crate) fn public(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Decodes, strips metadata by re-encoding, resizes; writes everything or nothing.
/// GIFs are stored as PNG (their first frame).
pub fn process(dir: &Path, bytes: &[u8]) -> std::result::Result<Processed, Refusal> {
    let source = images::sniff(bytes)?;
    let img = images::decode(bytes)?;
    let format = match source {
        ImageFormat::Jpeg => ImageFormat::Jpeg,
        ImageFormat::WebP => ImageFormat::WebP,
        _ => ImageFormat::Png,
    };
    crate::config::create_dir_with_mode(dir, 0o755)
        .map_err(|e| Refusal::Unprocessable(format!("the media folder is unusable: {e}")))?;
    let stem = random_stem();
    let mut writer = Writer {
        dir: dir.to_path_buf(),
        written: Vec::new(),
    };
    match write_all(&mut writer, &img, format, &stem) {
        Ok(p) => Ok(p),
        Err(e) => {
            writer.abandon();
            Err(e)
        }
    }
}

fn write_all(
    w: &mut Writer,
    img: &DynamicImage,
    format: ImageFormat,
    stem: &str,
) -> std::result::Result<Processed, Refusal> {
    let ext = extension(format);
    let main = encode(img, format)?;
    let file_name = format!("{stem}.{ext}");
    w.write(&file_name, &main)?;
    let (width, height) = (img.width(), img.height());
    let mut variants = Vec::new();
    for target in WIDTHS.iter().copied().filter(|t| *t < width) {
        let resized = images::downscale(img, target, image::imageops::FilterType::CatmullRom);
        let same = encode(&resized, format)?;
        let webp = encode(&resized, ImageFormat::WebP)?;
        // WebP where it is smaller, the original format otherwise.
        let (bytes, ext) = if webp.len() < same.len() {
            (webp, "webp")
        } else {
            (same, ext)
        };
        let file = format!("{stem}-{target}.{ext}");
        w.write(&file, &bytes)?;
        variants.push(Variant {
            width: target,
            file,
        });
    }
    let thumb = format!("{stem}-thumb.{ext}");
    let thumb_bytes = if width > THUMB_WIDTH {
        encode(
            &images::downscale(img, THUMB_WIDTH, image::imageops::FilterType::Triangle),
            format,
        )?
    } else {
        encode(img, format)?
    };
    w.write(&thumb, &thumb_bytes)?;
    Ok(Processed {
        file_name,
        mime: mime(format),
        size_bytes: main.len() as u64,
        width,
        height,
        thumb,
        variants,
    })
}

/// `process` off the async executor, within the shared image budgets.
pub async fn process_upload(
    dir: PathBuf,
    bytes: Vec<u8>,
) -> std::result::Result<Processed, Refusal> {
    images::bounded(bytes, images::Job::Keep, move |b| process(&dir, b)).await
}

/// Turns an uploaded image into a 256×256 PNG avatar under `dir/avatars/`
/// (a random name); returns its name relative to `dir`.
pub async fn store_avatar(dir: PathBuf, bytes: Vec<u8>) -> std::result::Result<String, Refusal> {
    images::bounded(bytes, images::Job::Shrink, move |b| {
        let png = images::square_png(&images::decode(b)?, 256)?;
        let folder = dir.join("avatars");
        crate::config::create_dir_with_mode(&folder, 0o755)
            .map_err(|e| Refusal::Unprocessable(format!("the avatar could not be saved: {e}")))?;
        let name = format!("{}.png", random_stem());
        let mut writer = Writer {
            dir: folder,
            written: Vec::new(),
        };
        writer.write(&name, &png)?;
        Ok(format!("avatars/{name}"))
    })
    .await
}

/// A random file name stem: 22 lowercase letters and digits.
fn random_stem() -> String {
    crate::ground::tokens::random_token()[..22]
        .to_lowercase()
        .replace(['-', '_'], "x")
}

pub fn record(
    c: &mut Conn,
    p: &Processed,
    original_name: &str,
    uploader: Option<i64>,
) -> Result<i64> {
    let variants = serde_json::to_string(&p.variants).unwrap_or_else(|_| "[]".into());
    c.insert(
        "INSERT INTO media (file_name, original_name, mime, size_bytes, width, height, uploader_id, created_at, variants, thumb) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![&p.file_name, original_name, p.mime, p.size_bytes as i64, p.width, p.height, uploader, dates::now(), variants, &p.thumb],
    )
}

/// Creates the entry, or replaces the one with the same file name (import;
/// `m.id` is not kept).
pub fn upsert(c: &mut Conn, m: &Media) -> Result<()> {
    let variants = serde_json::to_string(&m.variants).unwrap_or_else(|_| "[]".into());
    c.execute(
        "DELETE FROM media WHERE file_name = ?",
        params![&m.file_name],
    )?;
    c.insert(
        "INSERT INTO media (file_name, original_name, mime, size_bytes, width, height, uploader_id, created_at, variants, thumb) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![&m.file_name, &m.original_name, &m.mime, m.size_bytes, m.width, m.height, m.uploader_id, m.created_at,
            variants, m.thumb.as_deref()],
    )?;
    Ok(())
}

const COLUMNS: &str =
    "id, file_name, original_name, mime, size_bytes, width, height, thumb, variants, created_at, uploader_id";

fn from_row(r: &Row) -> Result<Media> {
    let variants: String = r.get(8)?;
    Ok(Media {
        id: r.get(0)?,
        file_name: r.get(1)?,
        original_name: r.get(2)?,
        mime: r.get(3)?,
        size_bytes: r.get(4)?,
        width: r.get(5)?,
        height: r.get(6)?,
        thumb: r.get(7)?,
        variants: serde_json::from_str(&variants).unwrap_or_default(),
        created_at: r.get(9)?,
        uploader_id: r.get(10)?,
    })
}

pub fn count(c: &mut Conn) -> Result<i64> {
    c.query_scalar("SELECT COUNT(*) FROM media", params![])
}

pub fn list(c: &mut Conn, limit: u32, offset: i64) -> Result<Vec<Media>> {
    c.query(
        &format!("SELECT {COLUMNS} FROM media ORDER BY id DESC LIMIT ? OFFSET ?"),
        params![limit, offset],
    )?
    .iter()
    .map(from_row)
    .collect()
}

pub fn by_file_name(c: &mut Conn, name: &str) -> Result<Option<Media>> {
    c.query_opt(
        &format!("SELECT {COLUMNS} FROM media WHERE file_name = ?"),
        params![name],
    )?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Deletes the row and every file of the upload.
pub fn delete(c: &mut Conn, id: i64, dir: &Path) -> Result<bool> {
    let Some(row) = c.query_opt(
        &format!("SELECT {COLUMNS} FROM media WHERE id = ?"),
        params![id],
    )?
    else {
        return Ok(false);
    };
    let m = from_row(&row)?;
    c.execute("DELETE FROM media WHERE id = ?", params![id])?;
    let files = std::iter::once(m.file_name)
        .chain(m.thumb)
        .chain(m.variants.into_iter().map(|v| v.file));
    for file in files {
        let _ = std::fs::remove_file(dir.join(file));
    }
    Ok(true)
}

/// The `srcset` of an uploaded image: its variants plus the original.
pub fn srcset(m: &Media) -> Option<String> {
    if m.variants.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = m
        .variants
        .iter()
        .map(|v| format!("/media/{} {}w", v.file, v.width))
        .collect();
    if let Some(w) = m.width {
        parts.push(format!("/media/{} {w}w", m.file_name));
    }
    Some(parts.join(", "))
}

/// Removes the files of an upload that could not be recorded.
pub fn remove_files(dir: &Path, p: &Processed) {
    let files = std::iter::once(&p.file_name)
        .chain(std::iter::once(&p.thumb))
        .chain(p.variants.iter().map(|v| &v.file));
    for file in files {
        let _ = std::fs::remove_file(dir.join(file));
    }
}

/// Every media record for `carnet export`.
pub fn export_records(c: &mut Conn) -> Result<Vec<MediaRecord>> {
    c.query(
        "SELECT m.file_name, m.original_name, m.mime, m.size_bytes, m.width, m.height, m.thumb, m.variants, \
         u.username, m.created_at FROM media m LEFT JOIN users u ON u.id = m.uploader_id ORDER BY m.id",
        params![],
    )?
    .iter()
    .map(|r| {
        let variants: String = r.get(7)?;
        let variants: Vec<Variant> =
            serde_json::from_str(&variants).unwrap_or_default();
        Ok(MediaRecord {
            file_name: r.get(0)?,
            original_name: r.get(1)?,
            mime: r.get(2)?,
            size_bytes: r.get(3)?,
            width: r.get(4)?,
            height: r.get(5)?,
            thumb: r.get(6)?,
            variants: variants
                .into_iter()
                .map(|v| VariantRecord {
                    width: v.width,
                    file: v.file,
                })
                .collect(),
            uploader: r.get(8)?,
            created_at: Some(dates::rfc3339(r.get(9)?)),
        })
    })
    .collect()
}
