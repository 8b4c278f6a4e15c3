//! Media: safe image handling for uploads (the library, its resized copies
//! and thumbnails, covers, avatars) and the `media` table.

pub mod images;
pub mod library;

use rocket::fs::TempFile;

use crate::error::{Error, Result};

/// Reads an uploaded file into memory (its size is already capped by the form limits).
pub async fn read_upload(file: &mut TempFile<'_>) -> Result<Vec<u8>> {
    use rocket::tokio::io::AsyncReadExt;
    let mut bytes = Vec::with_capacity(usize::try_from(file.len()).unwrap_or(0));
    file.open()
        .await
        .map_err(|e| Error::internal("reading an upload", e))?
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| Error::internal("reading an upload", e))?;
    Ok(bytes)
}
