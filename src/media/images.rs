//! Decoding untrusted images safely: the format is decided by the content,
//! decoding runs under pixel and memory limits (no decompression bombs), and
//! what is stored is re-encoded (so EXIF/GPS metadata never survives).

use std::io::Cursor;
use std::sync::LazyLock;

use image::{DynamicImage, GenericImageView, ImageDecoder, ImageFormat, ImageReader, Limits};
use rocket::tokio::sync::Semaphore;

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

/// Image work is heavy: at most two decodes at once, whatever the load.
static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(2));
/// The memory every image job in flight may hold together, in MiB: each
/// reserves its estimated peak before it decodes, so four parallel uploads of
/// a huge image wait for one another instead of taking a gigabyte.
static MEMORY_MIB: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(mib(MAX_ALLOC) as usize));
/// What a job holds besides the decoded pixels and one encoded copy: resize
/// buffers (downscaling goes through a small intermediate), decoder state.
const WORKING: u64 = 16 * 1024 * 1024;

fn mib(bytes: u64) -> u32 {
    u32::try_from(bytes.div_ceil(1024 * 1024)).unwrap_or(u32::MAX)
}

/// What one job will do with the decoded image, for its memory estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Re-encode it whole (the media library): one encoded copy of its size.
    Keep,
    /// Only small copies (an avatar, a thumbnail).
    Shrink,
}

/// Whether a JPEG is progressive (its frame header is SOF2, 6, 10 or 14):
/// the decoder then keeps every coefficient of the image until the end. Walks
/// the marker segments up to the first scan; anything unexpected counts as
/// progressive (the larger estimate).
fn progressive_jpeg(bytes: &[u8]) -> bool {
    let mut at = 2; // after SOI
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return true;
        }
        let marker = bytes[at + 1];
        match marker {
            0xC2 | 0xC6 | 0xCA | 0xCE => return true,
            0xC0 | 0xC1 | 0xC3 | 0xC5 | 0xC7 | 0xC9 | 0xCB | 0xCD | 0xCF | 0xDA => return false,
            _ => {}
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        at += 2 + length;
    }
    true
}

/// The most memory a job on an image of `decoded` bytes holds at once.
fn peak_bytes(format: ImageFormat, decoded: u64, job: Job, progressive: bool) -> u64 {
    let encoded = match (job, format) {
        (Job::Shrink, _) => 0,
        // JPEG at quality 85 is a fraction of the pixels; PNG and lossless
        // WebP can come close to them.
        (Job::Keep, ImageFormat::Jpeg) => decoded / 4,
        (Job::Keep, _) => decoded,
    };
    // A progressive JPEG's decoder keeps every coefficient (16 bits a sample).
    let decoder = if progressive { decoded } else { 0 };
    decoded + decoder + encoded + WORKING
}

/// Format and decoded size, from the header alone.
fn probe(bytes: &[u8]) -> Result<(ImageFormat, u32, u32, u64), Refusal> {
    let format = sniff(bytes)?;
    let reader = ImageReader::with_format(Cursor::new(bytes), format);
    let decoder = reader
        .into_decoder()
        .map_err(|e| Refusal::Unprocessable(format!("the image cannot be read: {e}")))?;
    let (w, h) = decoder.dimensions();
    Ok((format, w, h, decoder.total_bytes()))
}

/// Runs `work` on an uploaded image off the async executor, within the shared
/// budgets: two jobs at a time, and together within `MAX_ALLOC` bytes of
/// memory, the whole pipeline counted (decode, copies, encoding). An image
/// whose pipeline alone would pass the budget is refused (422).
pub async fn bounded<T: Send + 'static>(
    bytes: Vec<u8>,
    job: Job,
    work: impl FnOnce(&[u8]) -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Refusal> {
    let shutting_down = |_| Refusal::Unprocessable("the server is shutting down".into());
    let (bytes, probed) = blocking(move || {
        let probed = probe(&bytes);
        Ok((bytes, probed))
    })
    .await?;
    let (format, w, h, decoded) = probed?;
    let progressive = format == ImageFormat::Jpeg && progressive_jpeg(&bytes);
    let peak = peak_bytes(format, decoded, job, progressive);
    if w > MAX_SIDE || h > MAX_SIDE || peak > MAX_ALLOC {
        return Err(Refusal::Unprocessable(format!(
            "the image is too large to process ({w}×{h} pixels): at most {MAX_SIDE} on each side and {} MB of work",
            MAX_ALLOC / (1024 * 1024)
        )));
    }
    let _memory = MEMORY_MIB
        .acquire_many(mib(peak))
        .await
        .map_err(shutting_down)?;
    let _slot = SLOTS.acquire().await.map_err(shutting_down)?;
    blocking(move || work(&bytes)).await
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Refusal> {
    rocket::tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Refusal::Unprocessable(format!("the image could not be processed: {e}")))?
}

/// A copy `width` pixels wide (height in proportion). A large source is first
/// brought down to twice the target by area averaging (which writes only the
/// small result), then resized with `filter`: no full-size working copy.
pub fn downscale(
    img: &DynamicImage,
    width: u32,
    filter: image::imageops::FilterType,
) -> DynamicImage {
    let (w, h) = img.dimensions();
    let height = (u64::from(h) * u64::from(width) / u64::from(w.max(1))).max(1);
    let height = u32::try_from(height).unwrap_or(u32::MAX);
    if w > width.saturating_mul(2) {
        let step = img.thumbnail(width * 2, height.saturating_mul(2));
        step.resize_exact(width, height, filter)
    } else {
        img.resize_exact(width, height, filter)
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

/// A square thumbnail `side` pixels wide, cropped from the centre, as PNG
/// bytes. The crop is a view of the image, not a copy.
pub fn square_png(img: &DynamicImage, side: u32) -> Result<Vec<u8>, Refusal> {
    let (w, h) = (img.width(), img.height());
    let edge = w.min(h).max(1);
    let view = img.view((w - edge) / 2, (h - edge) / 2, edge, edge);
    let square = if edge > side.saturating_mul(2) {
        // Area-average the view down to twice the size (no full copy), then
        // finish with a sharp filter.
        let step = image::imageops::thumbnail(&*view, side * 2, side * 2);
        DynamicImage::from(step).resize_exact(side, side, image::imageops::FilterType::Lanczos3)
    } else {
        DynamicImage::from(view.to_image()).resize_exact(
            side,
            side,
            image::imageops::FilterType::Lanczos3,
        )
    };
    let mut out = Vec::new();
    square
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
        let big = decode(&png(1000, 600)).unwrap();
        let small = downscale(&big, 400, image::imageops::FilterType::CatmullRom);
        assert_eq!((small.width(), small.height()), (400, 240));
        let square = decode(&square_png(&big, 64).unwrap()).unwrap();
        assert_eq!((square.width(), square.height()), (64, 64));
    }

    #[test]
    fn the_whole_pipeline_is_counted() {
        let mb = 1024 * 1024;
        // A 12000×7400 grey PNG (89 MB of pixels) kept whole: pixels + an
        // encoded copy + working memory.
        let grey = 12_000 * 7_400;
        assert_eq!(
            peak_bytes(ImageFormat::Png, grey, Job::Keep, false),
            2 * grey + 16 * mb
        );
        assert!(peak_bytes(ImageFormat::Png, grey, Job::Shrink, false) < 128 * mb);
        // A 48 MP phone photo fits alone, not two at once; progressive, not at all.
        let photo = 8_000 * 6_000 * 3;
        let peak = peak_bytes(ImageFormat::Jpeg, photo, Job::Keep, false);
        assert!(peak <= MAX_ALLOC && 2 * peak > MAX_ALLOC, "{}", peak / mb);
        assert!(peak_bytes(ImageFormat::Jpeg, photo, Job::Keep, true) > MAX_ALLOC);
    }

    #[test]
    fn progressive_jpegs_are_told_apart() {
        let img = DynamicImage::new_rgb8(16, 16);
        let mut baseline = Vec::new();
        img.write_to(&mut Cursor::new(&mut baseline), ImageFormat::Jpeg)
            .unwrap();
        assert!(!progressive_jpeg(&baseline));
        // The same file with its frame header marked progressive (SOF0 → SOF2).
        let at = baseline.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        let mut progressive = baseline.clone();
        progressive[at + 1] = 0xC2;
        assert!(progressive_jpeg(&progressive));
        assert!(progressive_jpeg(b"\xFF\xD8garbage"));
    }
}
