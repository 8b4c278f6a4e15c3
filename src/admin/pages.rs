//! Static pages in the admin: list, editor with preview, delete.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::{admin_view, Errors};
use crate::blog::write::{self, Table};
use crate::db::{Conn, Db};
use crate::error::{Error, Result};
use crate::users::guards::EditorUser;
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::forms::Flag;
use crate::web::Site;
use crate::{dates, markdown, params, slugs};

pub fn routes() -> Vec<Route> {
    routes![
        list,
        new_page,
        create,
        edit_page,
        update,
        delete_page,
        delete
    ]
}

#[derive(Serialize)]
struct Row {
    id: i64,
    title: String,
    slug: String,
    status: String,
    show_in_nav: bool,
    nav_order: i64,
    edit_url: String,
    view_url: Option<String>,
}

#[get("/admin/pages")]
async fn list(db: &State<Db>, site: Site<'_>, me: EditorUser) -> Result<Template> {
    let pages = db
        .run(|c| {
            c.query("SELECT id, title, slug, status, show_in_nav, nav_order FROM pages ORDER BY nav_order, title", params![])?
                .iter()
                .map(|r| {
                    let id: i64 = r.get(0)?;
                    let slug: String = r.get(2)?;
                    let status: String = r.get(3)?;
                    Ok(Row {
                        id,
                        title: r.get(1)?,
                        view_url: (status == "published").then(|| format!("/pages/{slug}")),
                        slug,
                        status,
                        show_in_nav: r.get(4)?,
                        nav_order: r.get(5)?,
                        edit_url: format!("/admin/pages/{id}/edit"),
                    })
                })
                .collect::<Result<Vec<_>>>()
        })
        .await?;
    Ok(admin_view(db, "admin/pages.html", "pages", &me.0)
        .await?
        .title("Pages")
        .with("pages", pages)
        .render(&site))
}

#[derive(FromForm)]
struct PageForm {
    #[field(default = String::new())]
    title: String,
    #[field(default = String::new())]
    slug: String,
    #[field(default = String::new())]
    body: String,
    #[field(default = String::from("published"))]
    status: String,
    show_in_nav: Flag,
    #[field(default = String::from("0"))]
    nav_order: String,
    #[field(default = String::from("save"))]
    intent: String,
}

#[derive(Serialize, Clone)]
struct Values {
    title: String,
    slug: String,
    body: String,
    status: String,
    show_in_nav: bool,
    nav_order: String,
}

fn load(c: &mut Conn, id: i64) -> Result<Values> {
    let r = c
        .query_opt("SELECT title, slug, body_markdown, status, show_in_nav, nav_order FROM pages WHERE id = ?", params![id])?
        .ok_or(Error::NotFound)?;
    Ok(Values {
        title: r.get(0)?,
        slug: r.get(1)?,
        body: r.get(2)?,
        status: r.get(3)?,
        show_in_nav: r.get(4)?,
        nav_order: r.get::<i64>(5)?.to_string(),
    })
}

async fn editor(
    db: &Db,
    site: &Site<'_>,
    me: &EditorUser,
    id: Option<i64>,
    values: &Values,
    errors: &Errors,
    preview: Option<String>,
) -> Result<Template> {
    let action = id.map_or("/admin/pages/new".to_string(), |id| {
        format!("/admin/pages/{id}/edit")
    });
    let mut view = admin_view(db, "admin/page_form.html", "pages", &me.0)
        .await?
        .title(if id.is_some() {
            "Edit page"
        } else {
            "New page"
        })
        .with("action", action)
        .with("values", values)
        .with("errors", errors)
        .with("preview_html", preview);
    if let Some(id) = id {
        view = view.with("page", serde_json::json!({"id": id}));
    }
    Ok(view.render(site))
}

#[get("/admin/pages/new")]
async fn new_page(db: &State<Db>, site: Site<'_>, me: EditorUser) -> Result<Template> {
    let values = Values {
        title: String::new(),
        slug: String::new(),
        body: String::new(),
        status: "published".into(),
        show_in_nav: true,
        nav_order: "0".into(),
    };
    editor(db, &site, &me, None, &values, &Errors::new(), None).await
}

#[get("/admin/pages/<id>/edit")]
async fn edit_page(db: &State<Db>, site: Site<'_>, me: EditorUser, id: i64) -> Result<Template> {
    let values = db.run(move |c| load(c, id)).await?;
    editor(db, &site, &me, Some(id), &values, &Errors::new(), None).await
}

async fn save(
    db: &Db,
    site: &Site<'_>,
    me: &EditorUser,
    id: Option<i64>,
    f: PageForm,
) -> Result<std::result::Result<Flash<Redirect>, (Status, Template)>> {
    if let Some(id) = id {
        db.run(move |c| load(c, id)).await?;
    }
    let values = Values {
        title: f.title.clone(),
        slug: f.slug.clone(),
        body: f.body.clone(),
        status: f.status.clone(),
        show_in_nav: f.show_in_nav.0,
        nav_order: f.nav_order.clone(),
    };
    let mut errors = Errors::new();
    let title = f.title.trim().to_string();
    if title.is_empty() || title.chars().count() > 200 {
        errors.insert(
            "title",
            "A page needs a title (at most 200 characters).".into(),
        );
    }
    let explicit = !f.slug.trim().is_empty();
    let slug = if explicit {
        f.slug.trim().to_lowercase()
    } else {
        slugs::slugify(&title)
    };
    if explicit && !slugs::is_valid(&slug) {
        errors.insert(
            "slug",
            "Use lowercase letters, digits and '-' only (at most 80).".into(),
        );
    }
    if !matches!(f.status.as_str(), "draft" | "published") {
        errors.insert("status", "Choose draft or published.".into());
    }
    let nav_order: i64 = f.nav_order.trim().parse().unwrap_or_else(|_| {
        errors.insert("nav_order", "A whole number.".into());
        0
    });
    if f.intent == "preview" || !errors.is_empty() {
        let preview = (f.intent == "preview").then(|| markdown::render_post(&f.body).html);
        let status = if errors.is_empty() {
            Status::Ok
        } else {
            Status::UnprocessableEntity
        };
        return Ok(Err((
            status,
            editor(db, site, me, id, &values, &errors, preview).await?,
        )));
    }
    let outcome = db
        .run(move |c| {
            c.transaction(|c| {
                let slug = if explicit {
                    if write::slug_taken(c, Table::Pages, &slug, id)? {
                        return Ok(None);
                    }
                    slug
                } else {
                    write::free_slug(c, Table::Pages, &slug, id)?
                };
                let r = write::render_body(c, &f.body)?;
                let now = dates::now();
                let page_id = match id {
                    Some(id) => {
                        c.execute(
                            "UPDATE pages SET title = ?, slug = ?, body_markdown = ?, body_html = ?, body_text = ?, status = ?, \
                             show_in_nav = ?, nav_order = ?, updated_at = ? WHERE id = ?",
                            params![&title, &slug, &f.body, r.html, r.text, &f.status, f.show_in_nav.0, nav_order, now, id],
                        )?;
                        id
                    }
                    None => c.insert(
                        "INSERT INTO pages (title, slug, body_markdown, body_html, body_text, status, show_in_nav, nav_order, \
                         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        params![&title, &slug, &f.body, r.html, r.text, &f.status, f.show_in_nav.0, nav_order, now, now],
                    )?,
                };
                Ok(Some(page_id))
            })
        })
        .await?;
    match outcome {
        Some(page_id) => Ok(Ok(Flash::success(
            Redirect::to(format!("/admin/pages/{page_id}/edit")),
            "The page is saved.",
        ))),
        None => {
            errors.insert("slug", "Another page already uses this address.".into());
            Ok(Err((
                Status::UnprocessableEntity,
                editor(db, site, me, id, &values, &errors, None).await?,
            )))
        }
    }
}

#[post("/admin/pages/new", data = "<form>")]
async fn create(
    db: &State<Db>,
    site: Site<'_>,
    me: EditorUser,
    form: CsrfForm<PageForm>,
) -> Result<std::result::Result<Flash<Redirect>, (Status, Template)>> {
    save(db, &site, &me, None, form.into_inner()).await
}

#[post("/admin/pages/<id>/edit", data = "<form>")]
async fn update(
    db: &State<Db>,
    site: Site<'_>,
    me: EditorUser,
    id: i64,
    form: CsrfForm<PageForm>,
) -> Result<std::result::Result<Flash<Redirect>, (Status, Template)>> {
    save(db, &site, &me, Some(id), form.into_inner()).await
}

#[get("/admin/pages/<id>/delete")]
async fn delete_page(db: &State<Db>, site: Site<'_>, me: EditorUser, id: i64) -> Result<Template> {
    let values = db.run(move |c| load(c, id)).await?;
    let view = admin_view(db, "admin/confirm_delete.html", "pages", &me.0).await?;
    let message = "The page is removed for good.";
    Ok(super::confirm_delete(view, "page", id, &values.title, message).render(&site))
}

#[post("/admin/pages/<id>/delete", data = "<_form>")]
async fn delete(
    db: &State<Db>,
    _me: EditorUser,
    id: i64,
    _form: CsrfForm<NoFields>,
) -> Result<Flash<Redirect>> {
    let n = db
        .run(move |c| c.execute("DELETE FROM pages WHERE id = ?", params![id]))
        .await?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(Flash::success(
        Redirect::to("/admin/pages"),
        "The page is deleted.",
    ))
}
