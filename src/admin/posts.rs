//! Posts in the admin: list with filters, the editor (new/edit, preview,
//! schedule, tags on the fly, cover image), delete; the live preview endpoint.

use rocket::form::FromForm;
use rocket::fs::TempFile;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::{admin_view, page_and_offset, PER_PAGE};
use crate::blog::body::{self, render_body};
use crate::blog::input::{self, Draft};
use crate::blog::posts::{self, ListFilter};
use crate::blog::publish::{self, Events};
use crate::blog::tags;
use crate::db::{Conn, Db};
use crate::error::{Error, Result};
use crate::ground::dates;
use crate::media::images::Refusal;
use crate::media::library;
use crate::users::guards::AuthorUser;
use crate::users::Role;
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::forms::{FieldErrors, Flag, FormOutcome};
use crate::web::{Pagination, Site};

pub fn routes() -> Vec<Route> {
    routes![
        list,
        new_page,
        create,
        edit_page,
        update,
        delete_page,
        delete,
        preview
    ]
}

/// Authors only see and touch their own posts.
fn own_only(me: &AuthorUser) -> Option<i64> {
    (me.0.user.role < Role::Editor).then_some(me.0.user.id)
}

#[get("/admin/posts?<status>&<tag>&<author>&<q>&<page>")]
#[allow(clippy::too_many_arguments)]
async fn list(
    db: &State<Db>,
    site: Site<'_>,
    me: AuthorUser,
    status: Option<String>,
    tag: Option<String>,
    author: Option<String>,
    q: Option<String>,
    page: Option<&str>,
) -> Result<Template> {
    let filter = ListFilter {
        status: status.unwrap_or_default(),
        tag: tag.unwrap_or_default(),
        author: author.unwrap_or_default(),
        q: q.unwrap_or_default(),
    };
    let (page, offset) = page_and_offset(page, PER_PAGE)?;
    let own = own_only(&me);
    let f = filter.clone();
    let (posts, total, tags, authors) = db
        .run(move |c| {
            let total = posts::count_listed(c, &f, own)?;
            let listed = posts::listed(c, &f, own, PER_PAGE, offset)?;
            let tags: Vec<serde_json::Value> = tags::all(c)?
                .into_iter()
                .map(|(name, slug)| serde_json::json!({"name": name, "slug": slug}))
                .collect();
            let authors = posts::author_names(c)?;
            Ok((listed, total, tags, authors))
        })
        .await?;
    let query = serde_urlencoded_filter(&filter);
    let pager = Pagination::new(page, PER_PAGE, total, &format!("/admin/posts{query}"))?;
    Ok(admin_view(db, "admin/posts.html", "posts", &me.0)
        .await?
        .title("Posts")
        .with("posts", posts)
        .with("filters", &filter)
        .with("tags", tags)
        .with("authors", authors)
        .with("pagination", pager)
        .render(&site))
}

/// `?status=…&tag=…` for the pager links (empty filters left out).
fn serde_urlencoded_filter(f: &ListFilter) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let parts: Vec<String> = [
        ("status", &f.status),
        ("tag", &f.tag),
        ("author", &f.author),
        ("q", &f.q),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
    .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

#[derive(FromForm)]
pub struct PostForm<'r> {
    #[field(default = String::new())]
    title: String,
    #[field(default = String::new())]
    slug: String,
    #[field(default = String::new())]
    body: String,
    #[field(default = String::new())]
    tags: String,
    #[field(default = String::from("draft"))]
    status: String,
    #[field(default = String::new())]
    published_at: String,
    #[field(default = String::new())]
    excerpt: String,
    cover: Option<TempFile<'r>>,
    comments_enabled: Flag,
    #[field(default = String::from("save"))]
    intent: String,
}

/// What the editor shows in its fields.
#[derive(Debug, Clone, Serialize)]
struct Values {
    title: String,
    slug: String,
    body: String,
    tags: String,
    status: String,
    published_at: String,
    excerpt: String,
    comments_enabled: bool,
    cover_url: Option<String>,
    /// The stored `published_at` to the second (the field shows minutes).
    #[serde(skip)]
    published_exact: Option<i64>,
}

/// `YYYY-MM-DDTHH:MM` for the datetime-local input.
fn local(ts: i64) -> String {
    dates::rfc3339(ts).chars().take(16).collect()
}

/// An existing post as the editor shows it: (author id, cover, values).
fn load(c: &mut Conn, id: i64) -> Result<(i64, Option<String>, Values)> {
    let p = posts::editing(c, id)?;
    Ok((
        p.author_id,
        p.cover_image.clone(),
        Values {
            title: p.title,
            slug: p.slug,
            body: p.body_markdown,
            status: p.status,
            published_at: p.published_at.map(local).unwrap_or_default(),
            published_exact: p.published_at,
            excerpt: p.custom_excerpt.unwrap_or_default(),
            comments_enabled: p.comments_enabled,
            tags: p.tags.join(", "),
            cover_url: p.cover_image.map(|c| format!("/media/{c}")),
        },
    ))
}

/// Loads a post the user may edit: authors only their own (403 otherwise).
async fn editable(db: &Db, me: &AuthorUser, id: i64) -> Result<(i64, Option<String>, Values)> {
    let loaded = db.run(move |c| load(c, id)).await?;
    if me.0.user.role < Role::Editor && loaded.0 != me.0.user.id {
        return Err(Error::Forbidden);
    }
    Ok(loaded)
}

async fn editor(
    db: &Db,
    site: &Site<'_>,
    me: &AuthorUser,
    post: Option<(i64, Option<String>)>,
    values: &Values,
    errors: &FieldErrors,
    preview: Option<String>,
) -> Result<Template> {
    let action = match &post {
        Some((id, _)) => format!("/admin/posts/{id}/edit"),
        None => "/admin/posts/new".to_owned(),
    };
    let mut view = admin_view(db, "admin/post_form.html", "posts", &me.0)
        .await?
        .title(if post.is_some() {
            "Edit post"
        } else {
            "New post"
        })
        .with("action", action)
        .with("values", values)
        .with("errors", errors)
        .with("preview_html", preview);
    if let Some((id, view_url)) = post {
        view = view
            .with("post", serde_json::json!({"id": id}))
            .with("view_url", view_url);
    }
    Ok(view.render(site))
}

fn blank_values() -> Values {
    Values {
        title: String::new(),
        slug: String::new(),
        body: String::new(),
        tags: String::new(),
        status: "draft".into(),
        published_at: String::new(),
        excerpt: String::new(),
        comments_enabled: true,
        cover_url: None,
        published_exact: None,
    }
}

#[get("/admin/posts/new")]
async fn new_page(db: &State<Db>, site: Site<'_>, me: AuthorUser) -> Result<Template> {
    editor(
        db,
        &site,
        &me,
        None,
        &blank_values(),
        &FieldErrors::new(),
        None,
    )
    .await
}

#[get("/admin/posts/<id>/edit")]
async fn edit_page(db: &State<Db>, site: Site<'_>, me: AuthorUser, id: i64) -> Result<Template> {
    let (_, _, values) = editable(db, &me, id).await?;
    let view_url = public_url(db, id).await?;
    editor(
        db,
        &site,
        &me,
        Some((id, view_url)),
        &values,
        &FieldErrors::new(),
        None,
    )
    .await
}

async fn public_url(db: &Db, id: i64) -> Result<Option<String>> {
    db.run(move |c| posts::public_url(c, id, dates::now()))
        .await
}

/// The editor's fields as the blog checks them.
fn draft<'f>(f: &'f PostForm<'_>) -> Draft<'f> {
    Draft {
        title: &f.title,
        slug: &f.slug,
        body: &f.body,
        tags: &f.tags,
        status: &f.status,
        published_at: &f.published_at,
        excerpt: &f.excerpt,
        comments_enabled: f.comments_enabled.0,
    }
}

fn typed(f: &PostForm<'_>, cover_url: Option<String>) -> Values {
    Values {
        title: f.title.clone(),
        slug: f.slug.clone(),
        body: f.body.clone(),
        tags: f.tags.clone(),
        status: f.status.clone(),
        published_at: f.published_at.clone(),
        excerpt: f.excerpt.clone(),
        comments_enabled: f.comments_enabled.0,
        cover_url,
        published_exact: None,
    }
}

/// Stores an uploaded cover through the media pipeline; `None` when no file was sent.
async fn save_cover(
    db: &Db,
    site: &Site<'_>,
    me: &AuthorUser,
    file: Option<&mut TempFile<'_>>,
) -> std::result::Result<Option<String>, (Status, String)> {
    let Some(file) = file.filter(|f| f.len() > 0) else {
        return Ok(None);
    };
    let original = file
        .raw_name()
        .map(|n| n.dangerous_unsafe_unsanitized_raw().as_str().to_owned())
        .unwrap_or_default();
    let bytes = crate::media::read_upload(file)
        .await
        .map_err(|e| (Status::InternalServerError, e.to_string()))?;
    let processed = library::process_upload(site.settings.media_dir.clone(), bytes)
        .await
        .map_err(|r| (refusal_status(&r), r.to_string()))?;
    let uploader = me.0.user.id;
    let name = processed.file_name.clone();
    let dir = site.settings.media_dir.clone();
    let recorded = processed.clone();
    if let Err(e) = db
        .run(move |c| library::record(c, &recorded, &original, Some(uploader)))
        .await
    {
        library::remove_files(&dir, &processed);
        return Err((Status::InternalServerError, e.to_string()));
    }
    Ok(Some(name))
}

pub fn refusal_status(r: &Refusal) -> Status {
    match r {
        Refusal::UnsupportedType => Status::UnsupportedMediaType,
        Refusal::Unprocessable(_) => Status::UnprocessableEntity,
    }
}

/// Saves a new or edited post; the editor comes back with errors, or with the preview.
async fn save(
    db: &Db,
    site: &Site<'_>,
    me: &AuthorUser,
    id: Option<i64>,
    mut f: PostForm<'_>,
) -> Result<FormOutcome> {
    let (author_id, old_cover, old_published, view_url) = match id {
        Some(id) => {
            let (author, cover, values) = editable(db, me, id).await?;
            (
                author,
                cover,
                values.published_exact,
                public_url(db, id).await?,
            )
        }
        None => (me.0.user.id, None, None, None),
    };
    let mut errors = FieldErrors::new();
    let checked = input::check(&draft(&f), author_id, old_published, &mut errors);
    let old_cover_url = old_cover.as_ref().map(|c| format!("/media/{c}"));
    if f.intent == "preview" || checked.is_none() {
        let preview = match f.intent.as_str() {
            "preview" => Some(body::preview(f.body.clone()).await?),
            _ => None,
        };
        let status = if errors.is_empty() {
            Status::Ok
        } else {
            Status::UnprocessableEntity
        };
        let page = editor(
            db,
            site,
            me,
            id.map(|i| (i, view_url.clone())),
            &typed(&f, old_cover_url),
            &errors,
            preview,
        )
        .await?;
        return Ok(Err((status, page)));
    }
    let Some(mut checked) = checked else {
        return Err(Error::internal("editor", "unchecked post"));
    };
    let cover = match save_cover(db, site, me, f.cover.as_mut()).await {
        Ok(new) => new.or(old_cover),
        Err((status, message)) => {
            errors.insert("cover", message);
            let page = editor(
                db,
                site,
                me,
                id.map(|i| (i, view_url.clone())),
                &typed(&f, old_cover_url),
                &errors,
                None,
            )
            .await?;
            return Ok(Err((status, page)));
        }
    };
    checked.input.cover_image = cover;
    let outcome = db
        .run(move |c| {
            // Rendered before the transaction: nothing slow holds the write lock.
            let rendered = render_body(c, &checked.input.body_markdown)?;
            c.transaction(|c| {
                if checked.explicit_slug {
                    if posts::slug_taken(c, &checked.input.slug, id)? {
                        return Ok(Err(()));
                    }
                } else {
                    checked.input.slug = posts::free_slug(c, &checked.input.slug, id)?;
                }
                let tag_ids = tags::ensure_all(c, &checked.tags)?;
                let now = dates::now();
                let post_id = publish::save(
                    c,
                    id,
                    &checked.input,
                    &rendered,
                    &tag_ids,
                    now,
                    Events::Record,
                )?;
                Ok(Ok(post_id))
            })
        })
        .await?;
    match outcome {
        Ok(post_id) => Ok(Ok(Flash::success(
            Redirect::to(format!("/admin/posts/{post_id}/edit")),
            "The post is saved.",
        ))),
        Err(()) => {
            errors.insert("slug", "Another post already uses this address.".into());
            let page = editor(
                db,
                site,
                me,
                id.map(|i| (i, view_url)),
                &typed(&f, old_cover_url),
                &errors,
                None,
            )
            .await?;
            Ok(Err((Status::UnprocessableEntity, page)))
        }
    }
}

#[post("/admin/posts/new", data = "<form>")]
async fn create(
    db: &State<Db>,
    site: Site<'_>,
    me: AuthorUser,
    form: CsrfForm<PostForm<'_>>,
) -> Result<FormOutcome> {
    save(db, &site, &me, None, form.into_inner()).await
}

#[post("/admin/posts/<id>/edit", data = "<form>")]
async fn update(
    db: &State<Db>,
    site: Site<'_>,
    me: AuthorUser,
    id: i64,
    form: CsrfForm<PostForm<'_>>,
) -> Result<FormOutcome> {
    save(db, &site, &me, Some(id), form.into_inner()).await
}

#[get("/admin/posts/<id>/delete")]
async fn delete_page(db: &State<Db>, site: Site<'_>, me: AuthorUser, id: i64) -> Result<Template> {
    let (_, _, values) = editable(db, &me, id).await?;
    let view = admin_view(db, "admin/confirm_delete.html", "posts", &me.0).await?;
    let message = "The post, its tags links and its comments are removed for good.";
    Ok(super::confirm_delete(view, "post", id, &values.title, message).render(&site))
}

#[post("/admin/posts/<id>/delete", data = "<_form>")]
async fn delete(
    db: &State<Db>,
    me: AuthorUser,
    id: i64,
    _form: CsrfForm<NoFields>,
) -> Result<Flash<Redirect>> {
    editable(db, &me, id).await?;
    db.run(move |c| publish::delete(c, id, dates::now()))
        .await?;
    Ok(Flash::success(
        Redirect::to("/admin/posts"),
        "The post is deleted.",
    ))
}

#[derive(FromForm)]
struct PreviewForm {
    #[field(default = String::new())]
    body: String,
}

#[derive(Serialize)]
struct PreviewHtml {
    html: String,
}

/// Live preview for the editor's script: Markdown in, sanitized HTML out.
#[post("/admin/preview", data = "<form>")]
async fn preview(_me: AuthorUser, form: CsrfForm<PreviewForm>) -> Result<Json<PreviewHtml>> {
    let html = body::preview(form.into_inner().body).await?;
    Ok(Json(PreviewHtml { html }))
}
