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

use super::{admin_view, page_of, Errors, PER_PAGE};
use crate::blog::write::{self, PostInput, Table};
use crate::blog::PostStatus;
use crate::db::{Conn, Db, Value};
use crate::error::{Error, Result};
use crate::media::images::Refusal;
use crate::media::library;
use crate::users::guards::AuthorUser;
use crate::users::Role;
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::forms::Flag;
use crate::web::{Pagination, Site};
use crate::{dates, markdown, params, slugs};

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

/// The list's filters (all optional).
#[derive(Debug, Default, Clone, Serialize)]
pub struct Filter {
    pub status: String,
    pub tag: String,
    pub author: String,
    pub q: String,
}

#[derive(Debug, Serialize)]
pub struct PostRow {
    id: i64,
    title: String,
    slug: String,
    status: String,
    state: &'static str,
    published_display: Option<String>,
    author: String,
    tags: Vec<String>,
    comment_count: i64,
    edit_url: String,
    view_url: Option<String>,
}

fn filter_sql(f: &Filter, author_id: Option<i64>, now: i64) -> (String, Vec<Value>) {
    let mut sql = String::from("1 = 1");
    let mut params: Vec<Value> = Vec::new();
    match f.status.as_str() {
        "draft" => sql.push_str(" AND p.status = 'draft'"),
        "scheduled" => {
            sql.push_str(" AND p.status = 'published' AND p.published_at > ?");
            params.push(now.into());
        }
        "published" => {
            sql.push_str(" AND p.status = 'published' AND p.published_at <= ?");
            params.push(now.into());
        }
        _ => {}
    }
    if !f.tag.is_empty() {
        sql.push_str(" AND p.id IN (SELECT pt.post_id FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE t.slug = ?)");
        params.push(f.tag.clone().into());
    }
    if !f.author.is_empty() {
        sql.push_str(" AND u.username = ?");
        params.push(f.author.clone().into());
    }
    if let Some(id) = author_id {
        sql.push_str(" AND p.author_id = ?");
        params.push(id.into());
    }
    if !f.q.trim().is_empty() {
        sql.push_str(
            " AND (LOWER(p.title) LIKE ? ESCAPE '\\' OR LOWER(p.body_markdown) LIKE ? ESCAPE '\\')",
        );
        let like = format!(
            "%{}%",
            f.q.trim()
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        params.push(like.clone().into());
        params.push(like.into());
    }
    (sql, params)
}

pub fn count_rows(c: &mut Conn, f: &Filter, author_id: Option<i64>) -> Result<i64> {
    let (filter, params) = filter_sql(f, author_id, dates::now());
    c.query_scalar(
        &format!("SELECT COUNT(*) FROM posts p JOIN users u ON u.id = p.author_id WHERE {filter}"),
        &params,
    )
}

/// A page of posts for the admin list, newest first, tags in one more query.
pub fn rows(
    c: &mut Conn,
    f: &Filter,
    author_id: Option<i64>,
    limit: u32,
    offset: i64,
) -> Result<Vec<PostRow>> {
    let now = dates::now();
    let (filter, mut params) = filter_sql(f, author_id, now);
    params.push(limit.into());
    params.push(offset.into());
    let sql = format!(
        "SELECT p.id, p.title, p.slug, p.status, p.published_at, u.username, \
         (SELECT COUNT(*) FROM comments c WHERE c.post_id = p.id) \
         FROM posts p JOIN users u ON u.id = p.author_id WHERE {filter} \
         ORDER BY COALESCE(p.published_at, p.updated_at) DESC, p.id DESC LIMIT ? OFFSET ?"
    );
    let mut out = Vec::new();
    for r in c.query(&sql, &params)? {
        let id: i64 = r.get(0)?;
        let slug: String = r.get(2)?;
        let status: String = r.get(3)?;
        let published: Option<i64> = r.get(4)?;
        let state = match (status.as_str(), published) {
            ("published", Some(at)) if at > now => "scheduled",
            ("published", _) => "published",
            _ => "draft",
        };
        out.push(PostRow {
            id,
            title: r.get(1)?,
            view_url: (state == "published").then(|| format!("/posts/{slug}")),
            slug,
            status,
            state,
            published_display: published.map(dates::display),
            author: r.get(5)?,
            tags: Vec::new(),
            comment_count: r.get(6)?,
            edit_url: format!("/admin/posts/{id}/edit"),
        });
    }
    if !out.is_empty() {
        let ids: Vec<Value> = out.iter().map(|p| p.id.into()).collect();
        let sql = format!(
            "SELECT pt.post_id, t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id IN ({}) ORDER BY t.name",
            Conn::placeholders(ids.len())
        );
        for r in c.query(&sql, &ids)? {
            let post_id: i64 = r.get(0)?;
            if let Some(p) = out.iter_mut().find(|p| p.id == post_id) {
                p.tags.push(r.get(1)?);
            }
        }
    }
    Ok(out)
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
    let filter = Filter {
        status: status.unwrap_or_default(),
        tag: tag.unwrap_or_default(),
        author: author.unwrap_or_default(),
        q: q.unwrap_or_default(),
    };
    let (page, offset) = page_of(page, PER_PAGE)?;
    let own = own_only(&me);
    let f = filter.clone();
    let (posts, total, tags, authors) = db
        .run(move |c| {
            let total = count_rows(c, &f, own)?;
            let posts = rows(c, &f, own, PER_PAGE, offset)?;
            let tags: Vec<serde_json::Value> = c
                .query("SELECT name, slug FROM tags ORDER BY name", params![])?
                .iter()
                .map(|r| Ok(serde_json::json!({"name": r.get::<String>(0)?, "slug": r.get::<String>(1)?})))
                .collect::<Result<_>>()?;
            let authors: Vec<String> = c
                .query("SELECT DISTINCT u.username FROM users u JOIN posts p ON p.author_id = u.id ORDER BY u.username", params![])?
                .iter()
                .map(|r| r.get(0))
                .collect::<Result<_>>()?;
            Ok((posts, total, tags, authors))
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
fn serde_urlencoded_filter(f: &Filter) -> String {
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
    let r = c
        .query_opt(
            "SELECT author_id, title, slug, body_markdown, status, published_at, custom_excerpt, comments_enabled, cover_image \
             FROM posts WHERE id = ?",
            params![id],
        )?
        .ok_or(Error::NotFound)?;
    let tags: Vec<String> = c
        .query(
            "SELECT t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = ? ORDER BY t.name",
            params![id],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect::<Result<_>>()?;
    let cover: Option<String> = r.get(8)?;
    Ok((
        r.get(0)?,
        cover.clone(),
        Values {
            title: r.get(1)?,
            slug: r.get(2)?,
            body: r.get(3)?,
            status: r.get(4)?,
            published_at: r.get::<Option<i64>>(5)?.map(local).unwrap_or_default(),
            published_exact: r.get(5)?,
            excerpt: r.get::<Option<String>>(6)?.unwrap_or_default(),
            comments_enabled: r.get(7)?,
            tags: tags.join(", "),
            cover_url: cover.map(|c| format!("/media/{c}")),
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
    errors: &Errors,
    preview: Option<String>,
) -> Result<Template> {
    let action = match &post {
        Some((id, _)) => format!("/admin/posts/{id}/edit"),
        None => "/admin/posts/new".to_string(),
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
    editor(db, &site, &me, None, &blank_values(), &Errors::new(), None).await
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
        &Errors::new(),
        None,
    )
    .await
}

async fn public_url(db: &Db, id: i64) -> Result<Option<String>> {
    db.run(move |c| {
        Ok(c.query_opt(
            "SELECT slug FROM posts WHERE id = ? AND status = 'published' AND published_at <= ?",
            params![id, dates::now()],
        )?
        .map(|r| r.get::<String>(0))
        .transpose()?
        .map(|slug| format!("/posts/{slug}")))
    })
    .await
}

/// Tag names from "Rust, web ,  Rust" → ["Rust", "web"] (slug-unique, in order).
pub fn parse_tags(raw: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let slug = slugs::slugify(name);
        if slug.is_empty() {
            return Err(format!("“{name}” cannot be turned into a tag address"));
        }
        if name.chars().count() > 50 {
            return Err("A tag name has at most 50 characters.".into());
        }
        if !out.iter().any(|(_, s)| *s == slug) {
            out.push((name.to_string(), slug));
        }
    }
    if out.len() > 20 {
        return Err("At most 20 tags per post.".into());
    }
    Ok(out)
}

/// A post that passed validation, ready to be written.
struct Checked {
    input: PostInput,
    tags: Vec<(String, String)>,
    explicit_slug: bool,
}

fn check(
    f: &PostForm<'_>,
    author_id: i64,
    existing_published: Option<i64>,
    errors: &mut Errors,
) -> Option<Checked> {
    let title = f.title.trim().to_string();
    if title.is_empty() {
        errors.insert("title", "A post needs a title.".into());
    } else if title.chars().count() > 200 {
        errors.insert("title", "At most 200 characters.".into());
    }
    let explicit_slug = !f.slug.trim().is_empty();
    let slug = if explicit_slug {
        let s = f.slug.trim().to_lowercase();
        if !slugs::is_valid(&s) {
            errors.insert(
                "slug",
                "Use lowercase letters, digits and '-' only (at most 80).".into(),
            );
        }
        s
    } else {
        slugs::slugify(&title)
    };
    let status = PostStatus::parse(&f.status).unwrap_or_else(|| {
        errors.insert("status", "Choose draft or published.".into());
        PostStatus::Draft
    });
    let published_at = match f.published_at.trim() {
        "" if status == PostStatus::Published => {
            Some(existing_published.unwrap_or_else(dates::now))
        }
        "" => None,
        text => match dates::parse_local(text).or_else(|| dates::parse_rfc3339(text)) {
            // The field shows minutes: an untouched date keeps its seconds.
            Some(ts) if existing_published.is_some_and(|e| e - e.rem_euclid(60) == ts) => {
                existing_published
            }
            Some(ts) => Some(ts),
            None => {
                errors.insert(
                    "published_at",
                    "Use the form YYYY-MM-DDTHH:MM (UTC).".into(),
                );
                None
            }
        },
    };
    let tags = parse_tags(&f.tags).unwrap_or_else(|m| {
        errors.insert("tags", m);
        Vec::new()
    });
    if f.excerpt.chars().count() > 1000 {
        errors.insert("excerpt", "At most 1,000 characters.".into());
    }
    errors.is_empty().then(|| Checked {
        input: PostInput {
            title,
            slug,
            body_markdown: f.body.clone(),
            status,
            published_at,
            author_id,
            custom_excerpt: Some(f.excerpt.trim().to_string()).filter(|e| !e.is_empty()),
            cover_image: None,
            comments_enabled: f.comments_enabled.0,
        },
        tags,
        explicit_slug,
    })
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
        .map(|n| n.dangerous_unsafe_unsanitized_raw().as_str().to_string())
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
) -> Result<std::result::Result<Flash<Redirect>, (Status, Template)>> {
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
    let mut errors = Errors::new();
    let checked = check(&f, author_id, old_published, &mut errors);
    let old_cover_url = old_cover.as_ref().map(|c| format!("/media/{c}"));
    if f.intent == "preview" || checked.is_none() {
        let preview = (f.intent == "preview").then(|| markdown::render_post(&f.body).html);
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
            c.transaction(|c| {
                if checked.explicit_slug {
                    if write::slug_taken(c, Table::Posts, &checked.input.slug, id)? {
                        return Ok(Err(()));
                    }
                } else {
                    checked.input.slug =
                        write::free_slug(c, Table::Posts, &checked.input.slug, id)?;
                }
                let post_id = write::save_post(c, id, &checked.input, dates::now())?;
                let mut tag_ids = Vec::new();
                for (name, slug) in &checked.tags {
                    tag_ids.push(write::ensure_tag(c, name, slug)?);
                }
                write::set_post_tags(c, post_id, &tag_ids)?;
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
) -> Result<std::result::Result<Flash<Redirect>, (Status, Template)>> {
    save(db, &site, &me, None, form.into_inner()).await
}

#[post("/admin/posts/<id>/edit", data = "<form>")]
async fn update(
    db: &State<Db>,
    site: Site<'_>,
    me: AuthorUser,
    id: i64,
    form: CsrfForm<PostForm<'_>>,
) -> Result<std::result::Result<Flash<Redirect>, (Status, Template)>> {
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
    db.run(move |c| c.execute("DELETE FROM posts WHERE id = ?", params![id]))
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
    let body = form.into_inner().body;
    let html = rocket::tokio::task::spawn_blocking(move || markdown::render_post(&body).html)
        .await
        .map_err(|e| Error::internal("preview", e))?;
    Ok(Json(PreviewHtml { html }))
}
