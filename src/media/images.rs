//! Decoding untrusted images safely: the format is decided by the content,
//! decoding runs under pixel and memory limits (no decompression bombs), and
//! what is stored is re-encoded (so EXIF/GPS metadata never survives).

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Why an upload was refused; each maps to its own HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not an image type we accept (415).
    #[error("this file is not a PNG, JPEG, WebP or GIF image")]
    UnsupportedType,
    /// An accepted type that does not decode, or is too large in pixels (422).
    #[error("{0}")]
    Unprocessable(String),
}

/// Largest width or height accepted.
pub const MAX_SIDE: u32 = 12_000;
/// Largest decoded size in memory.
pub const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// The accepted formats, sniffed from the first bytes.
pub fn sniff(bytes: &[u8]) -> Result<ImageFormat, Refusal> {
    match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif)) => {
            Ok(f)
        }
        _ => Err(Refusal::UnsupportedType),
    }
}

/// Decodes with limits and applies the EXIF orientation.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, Refusal> {
    let format = sniff(bytes)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => too_large(),
        e => Refusal::Unprocessable(format!("the image cannot be read: {e}")),
    })?;
    // `into_decoder` does not check the memory limit by itself.
    let (w, h) = decoder.dimensions();
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(Refusal::Unprocessable(format!(
            "the image is {w}×{h} pixels; the limit is {MAX_SIDE} on each side"
        )));
    }
    limits.reserve(decoder.total_bytes()).map_err(|_| {
        Refusal::Unprocessable(format!(
            "the image is too large to process ({w}×{h} pixels)"
        ))
    })?;
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => too_large(),
        e => Refusal::Unprocessable(format!("the image cannot be decoded: {e}")),
    })?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    Ok(img)
}

fn too_large() -> Refusal {
    Refusal::Unprocessable(format!(
        "the image is too large in pixels: at most {MAX_SIDE} on each side and {} MB once decoded",
        MAX_ALLOC / (1024 * 1024)
    ))
}

/// A square thumbnail `side` pixels wide, cropped from the centre, as PNG bytes.
pub fn square_png(img: &DynamicImage, side: u32) -> Result<Vec<u8>, Refusal> {
    let (w, h) = (img.width(), img.height());
    let edge = w.min(h).max(1);
    let cropped = img.crop_imm((w - edge) / 2, (h - edge) / 2, edge, edge);
    let thumb = cropped.resize_exact(side, side, image::imageops::FilterType::Lanczos3);
    let mut out = Vec::new();
    thumb
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(|e| Refusal::Unprocessable(format!("the image cannot be encoded: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::new_rgb8(w, h);
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn accepts_images_and_refuses_the_rest() {
        let img = decode(&png(40, 20)).unwrap();
        let thumb = square_png(&img, 16).unwrap();
        let back = decode(&thumb).unwrap();
        assert_eq!((back.width(), back.height()), (16, 16));
        assert_eq!(
            decode(b"just some text, named .jpg"),
            Err(Refusal::UnsupportedType)
        );
        assert!(matches!(
            decode(&png(40, 20)[..30]),
            Err(Refusal::Unprocessable(_))
        ));
    }
}
