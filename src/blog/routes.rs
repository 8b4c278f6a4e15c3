//! Public blog pages: home, post, tags, authors, archive, static pages.

use rocket::{get, routes, Route, State};
use serde::Serialize;

use super::posts::{self, Scope};
use super::{links, pages};
use crate::comments;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::ground::dates;
use crate::users;
use crate::users::guards::Visitor;
use crate::web::cache::CacheKey;
use crate::web::csrf::CsrfToken;
use crate::web::view::PageResponse;
use crate::web::{pagination, Pagination, Site, View};
use rocket::http::CookieJar;

pub fn routes() -> Vec<Route> {
    let mut all = routes![index, post, tags, tag, author, archive, page];
    all.push(Route::ranked(
        1,
        rocket::http::Method::Get,
        "/posts/<slug>",
        CommentLink,
    ));
    all
}

/// A page of public posts in `scope`, and its pager (404 past the end).
async fn posts_list(
    db: &Db,
    site: &Site<'_>,
    scope: Scope,
    page: Option<&str>,
    path: &str,
) -> Result<(Vec<super::PostSummary>, Pagination)> {
    let page = pagination::requested(page)?;
    let per_page = site.settings.posts_per_page;
    let path = path.to_owned();
    db.run(move |c| {
        let now = dates::now();
        let total = posts::count_public(c, scope, now)?;
        let pager = Pagination::new(page, per_page, total, &path)?;
        let posts =
            posts::list_public(c, scope, now, per_page, pagination::offset(page, per_page))?;
        Ok((posts, pager))
    })
    .await
}

#[get("/?<page>")]
async fn index(
    db: &State<Db>,
    site: Site<'_>,
    key: CacheKey,
    page: Option<&str>,
) -> Result<PageResponse> {
    if let Some(hit) = site.cached(&key, None) {
        return Ok(hit);
    }
    let (posts, pager) = posts_list(db, &site, Scope::All, page, "/").await?;
    let description = site.settings.site_description.clone();
    Ok(View::new("blog/index.html")
        .with("posts", posts)
        .with("pagination", pager)
        .with("meta_description", description)
        .page(&site, &key, None))
}

/// Errors and typed values of a comment form sent back to its page.
pub type CommentFormState = (
    std::collections::BTreeMap<&'static str, String>,
    serde_json::Value,
);

/// The page of a public post with its threaded comments and the comment form.
pub async fn post_page(
    db: &Db,
    site: &Site<'_>,
    visitor: &Visitor,
    csrf: &CsrfToken,
    slug: &str,
    shown: CommentsShown,
    form: Option<CommentFormState>,
) -> Result<View> {
    let lookup = slug.to_owned();
    let per_page = site.settings.comments_per_page;
    let (requested, reply_to) = (shown.page, shown.reply_to);
    let pending = shown.pending;
    // Comments come a page at a time, `per_page` comments in reading order,
    // so a post with thousands of them (even in one thread) stays a page a
    // phone can load.
    let (post, comments, page, total, awaiting) = db
        .run(move |c| {
            let post = posts::public_post(c, &lookup, dates::now())?.ok_or(Error::NotFound)?;
            let order = comments::store::reading_order(c, post.id)?;
            let page = match requested {
                Some(n) => n,
                None => reply_to
                    .and_then(|id| comments::page_showing(&order, id, per_page))
                    .unwrap_or(1),
            };
            let total = i64::try_from(order.len()).unwrap_or(i64::MAX);
            let start = usize::try_from(pagination::offset(page, per_page)).unwrap_or(usize::MAX);
            let shown = order
                .get(start.min(order.len())..)
                .unwrap_or_default()
                .iter()
                .take(per_page as usize)
                .copied()
                .collect::<Vec<_>>();
            let comments = comments::store::page_tree(c, &shown)?;
            let awaiting = comments::store::awaiting(c, post.id, &pending)?;
            Ok((post, comments, page, total, awaiting))
        })
        .await?;
    let page_url = links::post(&post.slug);
    let pager = Pagination::new(page, per_page, total, &page_url)?;
    let here = match page {
        1 => page_url,
        n => format!("{page_url}?page={n}"),
    };
    let og_image = post
        .cover_url
        .as_ref()
        .map(|u| format!("{}{u}", site.settings.site_url));
    let permission = comments::form::permission(&site.settings, visitor, post.comments_enabled);
    let (errors, values) = form.unwrap_or_else(|| (Default::default(), serde_json::json!({})));
    // Answering a comment shown on this page; any other id is ignored.
    let reply_to = shown
        .reply_to
        .and_then(|id| comments::find(&comments, id))
        .map(|c| serde_json::json!({"id": c.id, "author_name": c.author_name}));
    let comment_form = serde_json::json!({
        "reply_to": reply_to,
        "page_url": here,
        "reply_url": format!("{here}{}reply_to=", if page == 1 { '?' } else { '&' }),
        "permission": permission,
        "action": format!("{}/comments", links::post(&post.slug)),
        "post_url": links::post(&post.slug),
        "csrf_token": csrf.0,
        "logged_in": visitor.0.is_some(),
        "user_name": visitor.user().map(|u| u.shown_name().to_owned()),
        "errors": errors,
        "values": values,
        "login_url": format!("/accounts/login?next={}", links::post(&post.slug)),
    });
    let view = View::new("blog/post.html");
    // Serving the page from the cache starts the form's timer, as rendering does.
    let view = match permission {
        comments::form::Permission::Allowed => view.on_serve(comments::form::mark_form_shown),
        _ => view,
    };
    Ok(view
        .title(post.title.clone())
        .with("canonical", format!("{}{here}", site.settings.site_url))
        .with("meta_description", &post.excerpt)
        .with("og_type", "article")
        .with("og_image", og_image)
        .with("comment_count", post.comment_count)
        .with("comments", comments)
        .with("awaiting", awaiting)
        .with("comment_pages", pager)
        .with("comment_form", comment_form)
        .with("post", post))
}

/// Which page of a post's comments to show: `page` if given, else the one
/// holding `reply_to` (the comment being answered), else the first.
#[derive(Debug, Clone, Default)]
pub struct CommentsShown {
    pub page: Option<u32>,
    pub reply_to: Option<i64>,
    /// This visitor's own comments awaiting moderation (from their cookie).
    pub pending: Vec<i64>,
}

// Ranked after `CommentLink`, which takes the requests naming a comment.
#[get("/posts/<slug>?<page>&<reply_to>", rank = 2)]
#[allow(clippy::too_many_arguments)]
pub(crate) async fn post(
    db: &State<Db>,
    site: Site<'_>,
    key: CacheKey,
    visitor: Visitor,
    csrf: CsrfToken,
    jar: &CookieJar<'_>,
    slug: &str,
    page: Option<&str>,
    reply_to: Option<i64>,
) -> Result<PageResponse> {
    comments::form::mark_form_shown(jar);
    if let Some(hit) = site.cached(&key, Some(&csrf.0)) {
        return Ok(hit);
    }
    let page = page.map(|p| pagination::requested(Some(p))).transpose()?;
    let shown = CommentsShown {
        page,
        reply_to,
        pending: comments::form::pending_ids(jar),
    };
    Ok(post_page(db, &site, &visitor, &csrf, slug, shown, None)
        .await?
        .page(&site, &key, Some(&csrf.0)))
}

/// A link to one comment (`/posts/<slug>?comment=<id>`, used by mails, the
/// admin and the redirect after commenting) goes to the comment page that
/// shows it; the browser keeps the `#comment-<id>` fragment of the link.
///
/// A handler rather than a route attribute, so that the requests without
/// `?comment=` go on to `post` silently (a query that does not match a route
/// attribute logs a warning each time). It does not use the `Site` guard
/// either: that would take the flash message meant for the page.
#[derive(Clone)]
struct CommentLink;

#[rocket::async_trait]
impl rocket::route::Handler for CommentLink {
    async fn handle<'r>(
        &self,
        req: &'r rocket::Request<'_>,
        data: rocket::Data<'r>,
    ) -> rocket::route::Outcome<'r> {
        let rocket = req.rocket();
        let (Some(Ok(comment)), Some(Ok(slug)), Some(db), Some(settings)) = (
            req.query_value::<i64>("comment"),
            req.param::<&str>(1), // the second segment: /posts/<slug>
            rocket.state::<Db>(),
            rocket.state::<crate::config::Settings>(),
        ) else {
            return rocket::route::Outcome::forward(data, rocket::http::Status::NotFound);
        };
        let url = comment_url(db, settings.comments_per_page, slug, comment).await;
        rocket::route::Outcome::from(req, url.map(rocket::response::Redirect::to))
    }
}

/// Where comment `id` of the post `slug` is shown.
async fn comment_url(db: &Db, per_page: u32, slug: &str, id: i64) -> Result<String> {
    let lookup = slug.to_owned();
    let order = db
        .run(move |c| {
            let post = posts::public_post(c, &lookup, dates::now())?.ok_or(Error::NotFound)?;
            comments::store::reading_order(c, post.id)
        })
        .await?;
    let post = links::post(slug);
    Ok(match comments::page_showing(&order, id, per_page) {
        Some(1) => format!("{post}#comment-{id}"),
        Some(n) => format!("{post}?page={n}#comment-{id}"),
        None => format!("{post}#comments"),
    })
}

#[get("/tags?<page>")]
async fn tags(
    db: &State<Db>,
    site: Site<'_>,
    key: CacheKey,
    page: Option<&str>,
) -> Result<PageResponse> {
    if let Some(hit) = site.cached(&key, None) {
        return Ok(hit);
    }
    let page = pagination::requested(page)?;
    let per_page = site.settings.posts_per_page;
    let (tags, pager) = db
        .run(move |c| {
            let (tags, total) = super::tags::tag_cloud(
                c,
                dates::now(),
                per_page,
                pagination::offset(page, per_page),
            )?;
            Ok((tags, Pagination::new(page, per_page, total, "/tags")?))
        })
        .await?;
    Ok(View::new("blog/tags.html")
        .title("Tags")
        .with("tags", tags)
        .with("pagination", pager)
        .page(&site, &key, None))
}

#[derive(Serialize)]
struct TagView {
    name: String,
    slug: String,
    url: String,
    count: i64,
}

#[get("/tags/<slug>?<page>")]
pub(crate) async fn tag(
    db: &State<Db>,
    site: Site<'_>,
    key: CacheKey,
    slug: &str,
    page: Option<&str>,
) -> Result<PageResponse> {
    if let Some(hit) = site.cached(&key, None) {
        return Ok(hit);
    }
    let lookup = slug.to_owned();
    let (id, name) = db
        .run(move |c| super::tags::tag_by_slug(c, &lookup))
        .await?
        .ok_or(Error::NotFound)?;
    let path = links::tag(slug);
    let (posts, pager) = posts_list(db, &site, Scope::Tag(id), page, &path).await?;
    let tag = TagView {
        name: name.clone(),
        slug: slug.to_owned(),
        count: pager.total,
        url: path,
    };
    Ok(View::new("blog/tag.html")
        .title(format!("Posts tagged “{name}”"))
        .with("tag", tag)
        .with("posts", posts)
        .with("pagination", pager)
        .page(&site, &key, None))
}

#[derive(Serialize)]
struct AuthorView {
    username: String,
    display_name: String,
    bio: String,
    url: String,
    post_count: i64,
    joined_display: String,
}

#[get("/authors/<username>?<page>")]
pub(crate) async fn author(
    db: &State<Db>,
    site: Site<'_>,
    key: CacheKey,
    username: &str,
    page: Option<&str>,
) -> Result<PageResponse> {
    if let Some(hit) = site.cached(&key, None) {
        return Ok(hit);
    }
    let lookup = username.to_owned();
    let (user, count) = db
        .run(move |c| {
            let user = users::store::by_username(c, &lookup)?.ok_or(Error::NotFound)?;
            let count = posts::count_public(c, Scope::Author(user.id), dates::now())?;
            Ok((user, count))
        })
        .await?;
    // Only people who write have a public page; members stay private.
    if !user.is_active || (user.role == users::Role::Member && count == 0) {
        return Err(Error::NotFound);
    }
    let path = links::author(&user.username);
    let (posts, pager) = posts_list(db, &site, Scope::Author(user.id), page, &path).await?;
    let view = AuthorView {
        display_name: user.shown_name().to_owned(),
        username: user.username.clone(),
        bio: user.bio.clone(),
        url: path,
        post_count: count,
        joined_display: dates::display(user.created_at),
    };
    Ok(View::new("blog/author.html")
        .title(view.display_name.clone())
        .with("meta_description", &view.bio)
        .with("author", view)
        .with("posts", posts)
        .with("pagination", pager)
        .page(&site, &key, None))
}

#[derive(Serialize)]
struct ArchivePost {
    title: String,
    url: String,
    day: u8,
    published_at: String,
}

#[derive(Serialize)]
struct ArchiveMonth {
    name: &'static str,
    number: u8,
    posts: Vec<ArchivePost>,
}

#[derive(Serialize)]
struct ArchiveYear {
    year: i32,
    months: Vec<ArchiveMonth>,
}

/// Groups posts (newest first) by year, then month.
fn group_archive(posts: Vec<(String, String, i64)>) -> Vec<ArchiveYear> {
    let mut years: Vec<ArchiveYear> = Vec::new();
    for (title, slug, ts) in posts {
        let (year, month, day) = dates::year_month_day(ts);
        if years.last().is_none_or(|y| y.year != year) {
            years.push(ArchiveYear {
                year,
                months: Vec::new(),
            });
        }
        let Some(y) = years.last_mut() else { continue };
        if y.months.last().is_none_or(|m| m.number != month) {
            y.months.push(ArchiveMonth {
                name: dates::month_name(month),
                number: month,
                posts: Vec::new(),
            });
        }
        if let Some(m) = y.months.last_mut() {
            m.posts.push(ArchivePost {
                title,
                url: links::post(&slug),
                day,
                published_at: dates::rfc3339(ts),
            });
        }
    }
    years
}

#[get("/archive?<page>")]
async fn archive(
    db: &State<Db>,
    site: Site<'_>,
    key: CacheKey,
    page: Option<&str>,
) -> Result<PageResponse> {
    if let Some(hit) = site.cached(&key, None) {
        return Ok(hit);
    }
    let page = pagination::requested(page)?;
    let per_page = site.settings.posts_per_page;
    let (posts, pager) = db
        .run(move |c| {
            let now = dates::now();
            let total = posts::count_public(c, Scope::All, now)?;
            let pager = Pagination::new(page, per_page, total, "/archive")?;
            Ok((
                posts::archive(c, now, per_page, pagination::offset(page, per_page))?,
                pager,
            ))
        })
        .await?;
    Ok(View::new("blog/archive.html")
        .title("Archive")
        .with("years", group_archive(posts))
        .with("pagination", pager)
        .page(&site, &key, None))
}

#[get("/pages/<slug>")]
pub(crate) async fn page(
    db: &State<Db>,
    site: Site<'_>,
    key: CacheKey,
    slug: &str,
) -> Result<PageResponse> {
    if let Some(hit) = site.cached(&key, None) {
        return Ok(hit);
    }
    let lookup = slug.to_owned();
    let page = db
        .run(move |c| pages::page_by_slug(c, &lookup))
        .await?
        .ok_or(Error::NotFound)?;
    Ok(View::new("blog/page.html")
        .title(page.title.clone())
        .with("page", page)
        .page(&site, &key, None))
}
