//! Tags in the admin: list with counts, rename, merge, delete.

use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::admin_view;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::users::guards::EditorUser;
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::Site;
use crate::{params, slugs};

pub fn routes() -> Vec<Route> {
    routes![list, rename, merge, delete]
}

#[derive(Serialize)]
struct Row {
    id: i64,
    name: String,
    slug: String,
    post_count: i64,
}

#[get("/admin/tags")]
async fn list(db: &State<Db>, site: Site<'_>, me: EditorUser) -> Result<Template> {
    let tags = db
        .run(|c| {
            c.query(
                "SELECT t.id, t.name, t.slug, COUNT(pt.post_id) FROM tags t LEFT JOIN post_tags pt ON pt.tag_id = t.id \
                 GROUP BY t.id, t.name, t.slug ORDER BY t.name",
                params![],
            )?
            .iter()
            .map(|r| Ok(Row { id: r.get(0)?, name: r.get(1)?, slug: r.get(2)?, post_count: r.get(3)? }))
            .collect::<Result<Vec<_>>>()
        })
        .await?;
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
    let name = f.name.trim().to_string();
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
    let outcome = db
        .run(move |c| {
            if c.query_scalar::<i64>(
                "SELECT COUNT(*) FROM tags WHERE slug = ? AND id <> ?",
                params![&slug, id],
            )? > 0
            {
                return Ok(false);
            }
            let n = c.execute(
                "UPDATE tags SET name = ?, slug = ? WHERE id = ?",
                params![&name, &slug, id],
            )?;
            if n == 0 {
                return Err(Error::NotFound);
            }
            Ok(true)
        })
        .await?;
    Ok(if outcome {
        back("The tag is renamed.")
    } else {
        refused("Another tag already uses this address: merge them instead.")
    })
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
    let merged = db
        .run(move |c| {
            c.transaction(|c| {
                let Some(target) = c.query_opt("SELECT id FROM tags WHERE slug = ?", params![&into])? else {
                    return Ok(false);
                };
                let target: i64 = target.get(0)?;
                if target == id {
                    return Ok(false);
                }
                c.execute(
                    "INSERT INTO post_tags (post_id, tag_id) SELECT post_id, ? FROM post_tags WHERE tag_id = ? \
                     AND post_id NOT IN (SELECT post_id FROM post_tags WHERE tag_id = ?)",
                    params![target, id, target],
                )?;
                Ok(c.execute("DELETE FROM tags WHERE id = ?", params![id])? == 1)
            })
        })
        .await?;
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
    let n = db
        .run(move |c| c.execute("DELETE FROM tags WHERE id = ?", params![id]))
        .await?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(back("The tag is deleted; its posts keep their other tags."))
}
