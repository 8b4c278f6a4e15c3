//! Post and page bodies: Markdown rendered once, on save, so no page ever
//! renders it at request time.

use std::collections::HashMap;

use crate::db::Conn;
use crate::error::Result;
use crate::ground::markdown;
use crate::media::library;

/// Renders a body, giving library images their resized copies as `srcset`.
pub fn render_body(c: &mut Conn, body: &str) -> Result<markdown::Rendered> {
    let mut srcsets = HashMap::new();
    for url in markdown::media_images(body) {
        let name = url.trim_start_matches("/media/");
        if let Some(set) = library::by_file_name(c, name)?
            .as_ref()
            .and_then(library::srcset)
        {
            srcsets.insert(url, set);
        }
    }
    Ok(markdown::render_post_with(body, &srcsets))
}

/// A body rendered for a preview, on a blocking thread: a long or
/// pathological body never holds up the async workers (nor `/healthz`).
pub async fn preview(body: String) -> Result<String> {
    rocket::tokio::task::spawn_blocking(move || markdown::render_post(&body).html)
        .await
        .map_err(|e| crate::error::Error::internal("preview", e))
}
