//! Export: every user, tag, post, page, comment, media record and admin
//! setting as a `SiteFile`, with every column that is not derived (rendered
//! HTML, excerpts and the search index are made again on import). Each
//! table's owner reads its own records.

use super::format::SiteFile;
use crate::db::Conn;
use crate::error::Result;

pub fn export(c: &mut Conn) -> Result<SiteFile> {
    Ok(SiteFile {
        format: "carnet".into(),
        version: 1,
        users: crate::users::store::export_records(c)?,
        tags: crate::blog::tags::export_records(c)?,
        posts: crate::blog::posts::export_records(c)?,
        pages: crate::blog::pages::export_records(c)?,
        comments: crate::comments::store::export_records(c)?,
        media: crate::media::library::export_records(c)?,
        settings: crate::site::settings::all(c)?,
    })
}
