//! Tags in the admin: list with counts, rename, merge, delete.

use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;

use super::admin_view;
use crate::blog::tags::{self, Renamed};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::ground::slugs;
use crate::users::guards::EditorUser;
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::Site;

pub fn routes() -> Vec<Route> {
    routes![list, rename, merge, delete]
}

#[get("/admin/tags")]
async fn list(db: &State<Db>, site: Site<'_>, me: EditorUser) -> Result<Template> {
    let tags = db.run(tags::listed).await?;
    Ok(admin_view(db, "admin/tags.html", "tags", &me.0)
        .await?
        .title("Tags")
        .with("tags", tags)
        .render(&site))
}

#[derive(FromForm)]
struct RenameForm {
    #[field(default = String::new())]
    name: String,
    #[field(default = String::new())]
    slug: String,
}

fn back(message: &str) -> Flash<Redirect> {
    Flash::success(Redirect::to("/admin/tags"), message)
}

fn refused(message: &str) -> Flash<Redirect> {
    Flash::error(Redirect::to("/admin/tags"), message)
}

#[post("/admin/tags/<id>/rename", data = "<form>")]
async fn rename(
    db: &State<Db>,
    _me: EditorUser,
    id: i64,
    form: CsrfForm<RenameForm>,
) -> Result<Flash<Redirect>> {
    let f = form.into_inner();
    let name = f.name.trim().to_owned();
    let slug = if f.slug.trim().is_empty() {
        slugs::slugify(&name)
    } else {
        f.slug.trim().to_lowercase()
    };
    if name.is_empty() || name.chars().count() > 50 {
        return Ok(refused("A tag name has 1 to 50 characters."));
    }
    if !slugs::is_valid(&slug) {
        return Ok(refused(
            "A tag address uses lowercase letters, digits and '-' only.",
        ));
    }
    let outcome = db.run(move |c| tags::rename(c, id, &name, &slug)).await?;
    match outcome {
        Renamed::Done => Ok(back("The tag is renamed.")),
        Renamed::SlugTaken => Ok(refused(
            "Another tag already uses this address: merge them instead.",
        )),
        Renamed::NoSuchTag => Err(Error::NotFound),
    }
}

#[derive(FromForm)]
struct MergeForm {
    #[field(default = String::new())]
    into: String,
}

/// Moves every post of tag `id` to the tag `into`, then deletes `id`.
#[post("/admin/tags/<id>/merge", data = "<form>")]
async fn merge(
    db: &State<Db>,
    _me: EditorUser,
    id: i64,
    form: CsrfForm<MergeForm>,
) -> Result<Flash<Redirect>> {
    let into = form.into_inner().into;
    let merged = db.run(move |c| tags::merge(c, id, &into)).await?;
    Ok(if merged {
        back("The tags are merged.")
    } else {
        refused("Choose another existing tag to merge into.")
    })
}

#[post("/admin/tags/<id>/delete", data = "<_form>")]
async fn delete(
    db: &State<Db>,
    _me: EditorUser,
    id: i64,
    _form: CsrfForm<NoFields>,
) -> Result<Flash<Redirect>> {
    if !db.run(move |c| tags::delete(c, id)).await? {
        return Err(Error::NotFound);
    }
    Ok(back("The tag is deleted; its posts keep their other tags."))
}
