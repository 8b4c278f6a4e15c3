//! The media library page: upload, list with thumbnails and Markdown snippets, delete.

use rocket::form::FromForm;
use rocket::fs::TempFile;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::posts::refusal_status;
use super::{admin_view, page_and_offset, PER_PAGE};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::media::library::{self, Media};
use crate::users::guards::{AuthorUser, EditorUser};
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::forms::{FieldErrors, FormOutcome};
use crate::web::{Pagination, Site};

pub fn routes() -> Vec<Route> {
    routes![list, upload, delete]
}

#[derive(Serialize)]
struct Item {
    id: i64,
    url: String,
    thumb_url: String,
    original_name: String,
    width: Option<u32>,
    height: Option<u32>,
    size_display: String,
    markdown: String,
}

fn size_display(bytes: i64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / 1048576.0),
        b if b >= 1024 => format!("{} KB", b / 1024),
        b => format!("{b} B"),
    }
}

fn item(m: Media) -> Item {
    let alt: String = m
        .original_name
        .rsplit_once('.')
        .map_or(m.original_name.as_str(), |(stem, _)| stem)
        .chars()
        .filter(|c| !"[]()".contains(*c))
        .collect();
    Item {
        id: m.id,
        url: format!("/media/{}", m.file_name),
        thumb_url: format!("/media/{}", m.thumb.as_deref().unwrap_or(&m.file_name)),
        markdown: format!("![{}](/media/{})", alt.trim(), m.file_name),
        original_name: m.original_name,
        width: m.width,
        height: m.height,
        size_display: size_display(m.size_bytes),
    }
}

async fn page(
    db: &Db,
    site: &Site<'_>,
    me: &AuthorUser,
    page: u32,
    offset: i64,
    errors: &FieldErrors,
) -> Result<Template> {
    let (media, total) = db
        .run(move |c| Ok((library::list(c, PER_PAGE, offset)?, library::count(c)?)))
        .await?;
    let pager = Pagination::new(page, PER_PAGE, total, "/admin/media")?;
    Ok(admin_view(db, "admin/media.html", "media", &me.0)
        .await?
        .title("Media")
        .with("media", media.into_iter().map(item).collect::<Vec<_>>())
        .with("errors", errors)
        .with(
            "max_upload_mb",
            site.settings.max_upload_bytes / (1024 * 1024),
        )
        .with("pagination", pager)
        .render(site))
}

#[get("/admin/media?<page>")]
async fn list(
    db: &State<Db>,
    site: Site<'_>,
    me: AuthorUser,
    page: Option<&str>,
) -> Result<Template> {
    let (page, offset) = page_and_offset(page, PER_PAGE)?;
    self::page(db, &site, &me, page, offset, &FieldErrors::new()).await
}

#[derive(FromForm)]
struct UploadForm<'r> {
    file: Option<TempFile<'r>>,
}

#[post("/admin/media", data = "<form>")]
async fn upload(
    db: &State<Db>,
    site: Site<'_>,
    me: AuthorUser,
    form: CsrfForm<UploadForm<'_>>,
) -> Result<FormOutcome> {
    let mut f = form.into_inner();
    let mut errors = FieldErrors::new();
    let Some(file) = f.file.as_mut().filter(|f| f.len() > 0) else {
        errors.insert("_form", "Choose a file to upload.".into());
        return Ok(Err((
            Status::UnprocessableEntity,
            page(db, &site, &me, 1, 0, &errors).await?,
        )));
    };
    let original: String = file
        .raw_name()
        .map(|n| n.dangerous_unsafe_unsanitized_raw().as_str().to_owned())
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control() && !"/\\".contains(*c))
        .take(200)
        .collect();
    let bytes = crate::media::read_upload(file).await?;
    match library::process_upload(site.settings.media_dir.clone(), bytes).await {
        Ok(processed) => {
            let uploader = me.0.user.id;
            let (dir, recorded) = (site.settings.media_dir.clone(), processed.clone());
            let result = db
                .run(move |c| library::record(c, &recorded, &original, Some(uploader)))
                .await;
            if let Err(e) = result {
                library::remove_files(&dir, &processed);
                return Err(e);
            }
            Ok(Ok(Flash::success(
                Redirect::to("/admin/media"),
                "The image is uploaded.",
            )))
        }
        Err(refusal) => {
            errors.insert("_form", refusal.to_string());
            Ok(Err((
                refusal_status(&refusal),
                page(db, &site, &me, 1, 0, &errors).await?,
            )))
        }
    }
}

#[post("/admin/media/<id>/delete", data = "<_form>")]
async fn delete(
    db: &State<Db>,
    site: Site<'_>,
    _me: EditorUser,
    id: i64,
    _form: CsrfForm<NoFields>,
) -> Result<Flash<Redirect>> {
    let dir = site.settings.media_dir.clone();
    let found = db.run(move |c| library::delete(c, id, &dir)).await?;
    if !found {
        return Err(Error::NotFound);
    }
    Ok(Flash::success(
        Redirect::to("/admin/media"),
        "The file is deleted.",
    ))
}
