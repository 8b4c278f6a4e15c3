//! A response body made of shared byte slices read one after the other, so a
//! cached page can be sent with the visitor's CSRF token spliced in without
//! copying the page into a new buffer for every request.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rocket::tokio::io::{AsyncRead, AsyncSeek, ReadBuf};

/// The chunk size for a body of `len` bytes: all of it, within 4 KiB–1 MiB.
pub fn chunk_size(len: usize) -> usize {
    len.clamp(4096, 1024 * 1024)
}

/// Hands every response of known size (cached pages, rendered templates,
/// error pages, assets, files) to the connection in one piece up to 1 MiB,
/// instead of Rocket's default 4 KiB chunks: each chunk is a hand-over between
/// tasks and a write of its own. A fairing, because Rocket resets the chunk
/// size whenever a body is set, and bodies are set in many places.
pub struct WholeBodies;

#[rocket::async_trait]
impl rocket::fairing::Fairing for WholeBodies {
    fn info(&self) -> rocket::fairing::Info {
        rocket::fairing::Info {
            name: "Whole bodies",
            kind: rocket::fairing::Kind::Response,
        }
    }

    async fn on_response<'r>(&self, _: &'r rocket::Request<'_>, res: &mut rocket::Response<'r>) {
        if let Some(len) = res.body().preset_size() {
            res.set_max_chunk_size(chunk_size(len));
        }
    }
}

pub struct Segments {
    parts: Vec<Arc<[u8]>>,
    pos: u64,
    len: u64,
}

impl Segments {
    pub fn new(parts: Vec<Arc<[u8]>>) -> Segments {
        let len = parts.iter().map(|p| p.len() as u64).sum();
        Segments { parts, pos: 0, len }
    }

    pub fn size(&self) -> usize {
        usize::try_from(self.len).unwrap_or(usize::MAX)
    }

    /// The part holding byte `pos`, and the offset of `pos` in it.
    fn locate(&self) -> Option<(&[u8], usize)> {
        let mut offset = self.pos;
        for part in &self.parts {
            let n = part.len() as u64;
            if offset < n {
                return Some((part, usize::try_from(offset).ok()?));
            }
            offset -= n;
        }
        None
    }
}

impl AsyncRead for Segments {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // Fill the buffer across parts: a short piece (the token) never goes
        // out as a tiny write of its own.
        let this = self.get_mut();
        while buf.remaining() > 0 {
            let Some((part, start)) = this.locate() else {
                break; // the end
            };
            let take = (part.len() - start).min(buf.remaining());
            buf.put_slice(&part[start..start + take]);
            this.pos += take as u64;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncSeek for Segments {
    fn start_seek(self: Pin<&mut Self>, position: io::SeekFrom) -> io::Result<()> {
        let this = self.get_mut();
        let target = match position {
            io::SeekFrom::Start(n) => i128::from(n),
            io::SeekFrom::End(d) => i128::from(this.len) + i128::from(d),
            io::SeekFrom::Current(d) => i128::from(this.pos) + i128::from(d),
        };
        this.pos = u64::try_from(target)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Poll::Ready(Ok(self.pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::tokio::io::{AsyncReadExt, AsyncSeekExt};

    #[rocket::async_test]
    async fn reads_the_parts_in_order_and_seeks() {
        let parts: Vec<Arc<[u8]>> = vec![
            Arc::from(&b"<form>"[..]),
            Arc::from(&b""[..]),
            Arc::from(&b"TOKEN"[..]),
            Arc::from(&b"</form>"[..]),
        ];
        let mut body = Segments::new(parts);
        assert_eq!(body.size(), 18);
        let mut out = String::new();
        body.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, "<form>TOKEN</form>");
        body.seek(io::SeekFrom::Start(8)).await.unwrap();
        let mut rest = String::new();
        body.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "KEN</form>");
        assert_eq!(body.seek(io::SeekFrom::End(-7)).await.unwrap(), 11);
    }

    #[rocket::async_test]
    async fn the_whole_body_goes_out_as_one_chunk() {
        // A 4 KiB chunk is a task hand-over and a write of its own: a 148 KB
        // page went out as 37 writes when the chunk size was lost.
        use rocket::fairing::Fairing;
        let client = rocket::local::asynchronous::Client::untracked(rocket::build())
            .await
            .unwrap();
        let req = client.get("/");
        for (len, chunk) in [(150_000, 150_000), (10, 4096)] {
            let mut res = rocket::Response::build()
                .sized_body(len, io::Cursor::new(vec![b'x'; len]))
                .finalize();
            WholeBodies.on_response(req.inner(), &mut res).await;
            assert_eq!(res.body().max_chunk_size(), chunk);
        }
    }
}
