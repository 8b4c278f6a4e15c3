//! Static pages in the admin: list, editor with preview, delete.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::admin_view;
use crate::blog::body::{self, render_body};
use crate::blog::pages::{self, PageInput};
use crate::blog::PostStatus;
use crate::db::{Conn, Db};
use crate::error::{Error, Result};
use crate::ground::{dates, slugs};
use crate::users::guards::EditorUser;
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::forms::{FieldErrors, Flag, FormOutcome};
use crate::web::Site;

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

#[get("/admin/pages")]
async fn list(db: &State<Db>, site: Site<'_>, me: EditorUser) -> Result<Template> {
    let pages = db.run(pages::listed).await?;
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
    let p = pages::editing(c, id)?;
    Ok(Values {
        title: p.title,
        slug: p.slug,
        body: p.body_markdown,
        status: p.status.as_str().to_owned(),
        show_in_nav: p.show_in_nav,
        nav_order: p.nav_order.to_string(),
    })
}

async fn editor(
    db: &Db,
    site: &Site<'_>,
    me: &EditorUser,
    id: Option<i64>,
    values: &Values,
    errors: &FieldErrors,
    preview: Option<String>,
) -> Result<Template> {
    let action = id.map_or("/admin/pages/new".to_owned(), |id| {
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
    editor(db, &site, &me, None, &values, &FieldErrors::new(), None).await
}

#[get("/admin/pages/<id>/edit")]
async fn edit_page(db: &State<Db>, site: Site<'_>, me: EditorUser, id: i64) -> Result<Template> {
    let values = db.run(move |c| load(c, id)).await?;
    editor(db, &site, &me, Some(id), &values, &FieldErrors::new(), None).await
}

async fn save(
    db: &Db,
    site: &Site<'_>,
    me: &EditorUser,
    id: Option<i64>,
    f: PageForm,
) -> Result<FormOutcome> {
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
    let mut errors = FieldErrors::new();
    let title = f.title.trim().to_owned();
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
        let preview = match f.intent.as_str() {
            "preview" => Some(body::preview(f.body.clone()).await?),
            _ => None,
        };
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
            // Rendered before the transaction: nothing slow holds the write lock.
            let rendered = render_body(c, &f.body)?;
            c.transaction(|c| {
                let slug = if explicit {
                    if pages::slug_taken(c, &slug, id)? {
                        return Ok(None);
                    }
                    slug
                } else {
                    pages::free_slug(c, &slug, id)?
                };
                let now = dates::now();
                let page = PageInput {
                    title,
                    slug,
                    body_markdown: f.body,
                    status: PostStatus::parse(&f.status).unwrap_or(PostStatus::Draft),
                    show_in_nav: f.show_in_nav.0,
                    nav_order,
                    created_at: now,
                    updated_at: now,
                };
                let page_id = pages::save(c, id, &page, &rendered)?;
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
) -> Result<FormOutcome> {
    save(db, &site, &me, None, form.into_inner()).await
}

#[post("/admin/pages/<id>/edit", data = "<form>")]
async fn update(
    db: &State<Db>,
    site: Site<'_>,
    me: EditorUser,
    id: i64,
    form: CsrfForm<PageForm>,
) -> Result<FormOutcome> {
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
    if !db.run(move |c| pages::delete(c, id)).await? {
        return Err(Error::NotFound);
    }
    Ok(Flash::success(
        Redirect::to("/admin/pages"),
        "The page is deleted.",
    ))
}
