//! Import: parse, check every record (naming the JSON path of the first problem),
//! then write everything in one transaction.

use std::collections::{HashMap, HashSet};

use super::format::{CommentRecord, SiteFile};
use crate::blog::posts::{self, PostInput};
use crate::blog::{pages, publish, tags, PostStatus};
use crate::comments;
use crate::db::Conn;
use crate::error::{Error, Result};
use crate::ground::{dates, markdown, slugs};
use crate::users::{self, Role};

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub users: usize,
    pub tags: usize,
    pub posts: usize,
    pub pages: usize,
    pub comments: usize,
    pub media: usize,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} users, {} tags, {} posts, {} pages, {} comments, {} media",
            self.users, self.tags, self.posts, self.pages, self.comments, self.media
        )
    }
}

fn at(path: String, message: impl std::fmt::Display) -> Error {
    Error::invalid(format!("{path}: {message}"))
}

/// Parses a document; a syntax or type error names the JSON path where it is.
pub fn parse(json: &str) -> Result<SiteFile> {
    let de = &mut serde_json::Deserializer::from_str(json);
    let file: SiteFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let path = if path == "." {
            "(document)".to_owned()
        } else {
            path
        };
        at(path, inner)
    })?;
    if file.format != "carnet" {
        return Err(at(
            "format".into(),
            format!("expected \"carnet\", found {:?}", file.format),
        ));
    }
    if file.version != 1 {
        return Err(at(
            "version".into(),
            format!("version {} is not supported (expected 1)", file.version),
        ));
    }
    Ok(file)
}

fn time(path: impl Fn() -> String, value: &str) -> Result<i64> {
    dates::parse_rfc3339(value)
        .ok_or_else(|| at(path(), format!("{value:?} is not an RFC 3339 date")))
}

/// An optional date of the file, `default` when absent.
fn optional_time(path: impl Fn() -> String, value: Option<&str>, default: i64) -> Result<i64> {
    match value {
        Some(t) => time(path, t),
        None => Ok(default),
    }
}

/// A stored file's name as the media folder holds it: no way out of the
/// folder, no hidden files.
fn check_file_name(name: &str) -> std::result::Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && name
            .split('/')
            .all(|part| !part.is_empty() && !part.starts_with('.'))
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | '_' | '/'));
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not a media file name"))
    }
}

/// The id of user `name`, from the file or the database.
fn user_id(
    c: &mut Conn,
    users: &HashMap<String, i64>,
    name: &str,
) -> std::result::Result<i64, String> {
    let name = users::normalize_username(name)?;
    if let Some(id) = users.get(&name) {
        return Ok(*id);
    }
    match users::store::by_username(c, &name) {
        Ok(Some(u)) => Ok(u.id),
        Ok(None) => Err(format!(
            "no user named {name:?} in the file or the database"
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn import_media(
    c: &mut Conn,
    file: &SiteFile,
    now: i64,
    users: &HashMap<String, i64>,
    report: &mut Report,
) -> Result<()> {
    for (i, m) in file.media.iter().enumerate() {
        let p = |field: &str| format!("media[{i}].{field}");
        check_file_name(&m.file_name).map_err(|e| at(p("file_name"), e))?;
        if let Some(thumb) = &m.thumb {
            check_file_name(thumb).map_err(|e| at(p("thumb"), e))?;
        }
        let mut variants = Vec::with_capacity(m.variants.len());
        for (j, v) in m.variants.iter().enumerate() {
            check_file_name(&v.file)
                .map_err(|e| at(format!("media[{i}].variants[{j}].file"), e))?;
            variants.push(crate::media::library::Variant {
                width: v.width,
                file: v.file.clone(),
            });
        }
        if !m.mime.starts_with("image/") {
            return Err(at(p("mime"), format!("{:?} is not an image type", m.mime)));
        }
        let uploader = match &m.uploader {
            Some(name) => Some(user_id(c, users, name).map_err(|e| at(p("uploader"), e))?),
            None => None,
        };
        let record = crate::media::library::Media {
            id: 0,
            file_name: m.file_name.clone(),
            original_name: m.original_name.clone(),
            mime: m.mime.clone(),
            size_bytes: m.size_bytes,
            width: m.width,
            height: m.height,
            thumb: m.thumb.clone(),
            variants,
            uploader_id: uploader,
            created_at: optional_time(|| p("created_at"), m.created_at.as_deref(), now)?,
        };
        crate::media::library::upsert(c, &record)?;
        report.media += 1;
    }
    Ok(())
}

/// The admin's settings; keys this version does not know are ignored.
fn import_settings(c: &mut Conn, file: &SiteFile) -> Result<()> {
    let known: Vec<(&str, String)> = crate::site::settings::KEYS
        .iter()
        .filter_map(|k| file.settings.get(*k).map(|v| (*k, v.clone())))
        .collect();
    crate::site::settings::save(c, &known)
}

fn slug_of(path: impl Fn() -> String, given: Option<&str>, title: &str) -> Result<String> {
    let slug = match given {
        Some(s) if !s.is_empty() => s.to_owned(),
        _ => slugs::slugify(title),
    };
    if slugs::is_valid(&slug) {
        Ok(slug)
    } else {
        Err(at(
            path(),
            format!("{slug:?} is not a valid slug (lowercase letters, digits and '-')"),
        ))
    }
}

/// Loads `file` into the database in one transaction; nothing is written on error.
pub fn import(c: &mut Conn, file: &SiteFile) -> Result<Report> {
    c.transaction(|c| {
        let now = dates::now();
        let mut report = Report::default();
        let users = import_users(c, file, now, &mut report)?;
        let tags = import_tags(c, file, &mut report)?;
        let posts = import_posts(c, file, now, &users, &tags, &mut report)?;
        import_pages(c, file, now, &mut report)?;
        import_comments(c, &file.comments, &posts, &users, &mut report)?;
        import_media(c, file, now, &users, &mut report)?;
        import_settings(c, file)?;
        Ok(report)
    })
}

/// Username → id for every user in the file.
fn import_users(
    c: &mut Conn,
    file: &SiteFile,
    now: i64,
    report: &mut Report,
) -> Result<HashMap<String, i64>> {
    let mut ids = HashMap::new();
    let mut emails = HashSet::new();
    for (i, u) in file.users.iter().enumerate() {
        let p = |field: &str| format!("users[{i}].{field}");
        let username = users::normalize_username(&u.username).map_err(|m| at(p("username"), m))?;
        let email = users::normalize_email(&u.email).map_err(|m| at(p("email"), m))?;
        let role = Role::parse(&u.role).ok_or_else(|| {
            at(
                p("role"),
                format!("{:?} is not one of admin, editor, author, member", u.role),
            )
        })?;
        if let Some(hash) = &u.password_hash {
            users::password::check_imported(hash).map_err(|m| at(p("password_hash"), m))?;
        }
        if let Some(avatar) = &u.avatar {
            check_file_name(avatar).map_err(|m| at(p("avatar"), m))?;
        }
        let created = optional_time(|| p("created_at"), u.created_at.as_deref(), now)?;
        let updated = optional_time(|| p("updated_at"), u.updated_at.as_deref(), now)?;
        if ids.contains_key(&username) {
            return Err(at(p("username"), format!("{username:?} appears twice")));
        }
        if !emails.insert(email.clone()) {
            return Err(at(p("email"), format!("{email:?} appears twice")));
        }
        if let Some(other) = users::store::by_email(c, &email)? {
            if other.username != username {
                return Err(at(
                    p("email"),
                    format!("{email:?} already belongs to user {:?}", other.username),
                ));
            }
        }
        let existing = users::store::by_username(c, &username)?.map(|u| u.id);
        let record = users::store::Imported {
            username: &username,
            email: &email,
            display_name: &u.display_name,
            bio: &u.bio,
            avatar: u.avatar.as_deref(),
            role,
            password_hash: u.password_hash.as_deref(),
            is_active: u.is_active,
            email_confirmed: u.email_confirmed,
            created_at: created,
            updated_at: updated,
        };
        let id = users::store::upsert_imported(c, existing, &record)?;
        ids.insert(username, id);
        report.users += 1;
    }
    Ok(ids)
}

/// Tag slug → id for every tag in the file.
fn import_tags(c: &mut Conn, file: &SiteFile, report: &mut Report) -> Result<HashMap<String, i64>> {
    let mut ids = HashMap::new();
    for (i, t) in file.tags.iter().enumerate() {
        let name = t.name.trim();
        if name.is_empty() {
            return Err(at(format!("tags[{i}].name"), "a tag needs a name"));
        }
        let slug = slug_of(|| format!("tags[{i}].slug"), t.slug.as_deref(), name)?;
        let id = tags::ensure_tag(c, name, &slug)?;
        tags::set_name(c, id, name)?;
        ids.insert(slug, id);
        report.tags += 1;
    }
    Ok(ids)
}

/// Post slug → id for every post in the file.
fn import_posts(
    c: &mut Conn,
    file: &SiteFile,
    now: i64,
    users: &HashMap<String, i64>,
    tags: &HashMap<String, i64>,
    report: &mut Report,
) -> Result<HashMap<String, i64>> {
    let mut ids = HashMap::new();
    for (i, post) in file.posts.iter().enumerate() {
        let p = |field: &str| format!("posts[{i}].{field}");
        let title = post.title.trim();
        if title.is_empty() {
            return Err(at(p("title"), "a post needs a title"));
        }
        let slug = slug_of(|| p("slug"), post.slug.as_deref(), title)?;
        if ids.contains_key(&slug) {
            return Err(at(p("slug"), format!("{slug:?} appears twice")));
        }
        let status = PostStatus::parse(&post.status).ok_or_else(|| {
            at(
                p("status"),
                format!("{:?} is not draft or published", post.status),
            )
        })?;
        let published_at = match &post.published_at {
            Some(t) => Some(time(|| p("published_at"), t)?),
            None if status == PostStatus::Published => Some(now),
            None => None,
        };
        let author = users::normalize_username(&post.author).map_err(|m| at(p("author"), m))?;
        let author_id = match users.get(&author) {
            Some(id) => *id,
            None => {
                users::store::by_username(c, &author)?
                    .ok_or_else(|| {
                        at(
                            p("author"),
                            format!("no user named {author:?} in the file or the database"),
                        )
                    })?
                    .id
            }
        };
        let mut tag_ids = Vec::with_capacity(post.tags.len());
        for (j, tag) in post.tags.iter().enumerate() {
            let tag_slug = slug_of(|| format!("posts[{i}].tags[{j}]"), Some(tag), tag)?;
            let id = match tags.get(&tag_slug) {
                Some(id) => *id,
                None => tags::ensure_tag(c, tag, &tag_slug)?,
            };
            if !tag_ids.contains(&id) {
                tag_ids.push(id);
            }
        }
        let input = PostInput {
            title: title.to_owned(),
            slug: slug.clone(),
            body_markdown: post.body_markdown.clone(),
            status,
            published_at,
            author_id,
            custom_excerpt: post.excerpt.clone().filter(|e| !e.trim().is_empty()),
            cover_image: post.cover_image.clone().filter(|e| !e.trim().is_empty()),
            comments_enabled: post.comments_enabled,
        };
        let created = optional_time(|| p("created_at"), post.created_at.as_deref(), now)?;
        let updated = optional_time(|| p("updated_at"), post.updated_at.as_deref(), now)?;
        // The publish path, without events: imported history mails and
        // federates nothing.
        let id = publish::save_imported(c, &input, &tag_ids, created, updated, now)?;
        ids.insert(slug, id);
        report.posts += 1;
    }
    Ok(ids)
}

fn import_pages(c: &mut Conn, file: &SiteFile, now: i64, report: &mut Report) -> Result<()> {
    let mut seen = HashSet::new();
    for (i, page) in file.pages.iter().enumerate() {
        let title = page.title.trim();
        if title.is_empty() {
            return Err(at(format!("pages[{i}].title"), "a page needs a title"));
        }
        let slug = slug_of(|| format!("pages[{i}].slug"), page.slug.as_deref(), title)?;
        if !seen.insert(slug.clone()) {
            return Err(at(
                format!("pages[{i}].slug"),
                format!("{slug:?} appears twice"),
            ));
        }
        let status = PostStatus::parse(&page.status).ok_or_else(|| {
            at(
                format!("pages[{i}].status"),
                format!("{:?} is not draft or published", page.status),
            )
        })?;
        let input = pages::PageInput {
            title: title.to_owned(),
            slug,
            body_markdown: page.body_markdown.clone(),
            status,
            show_in_nav: page.show_in_nav,
            nav_order: page.nav_order,
            created_at: optional_time(
                || format!("pages[{i}].created_at"),
                page.created_at.as_deref(),
                now,
            )?,
            updated_at: optional_time(
                || format!("pages[{i}].updated_at"),
                page.updated_at.as_deref(),
                now,
            )?,
        };
        pages::upsert_page_by_slug(c, &input)?;
        report.pages += 1;
    }
    Ok(())
}

/// Comments are written parents first, whatever their order in the file; the
/// file's `id`s only link replies to parents and are not kept.
fn import_comments(
    c: &mut Conn,
    comments: &[CommentRecord],
    posts: &HashMap<String, i64>,
    users: &HashMap<String, i64>,
    report: &mut Report,
) -> Result<()> {
    let mut by_file_id: HashMap<i64, usize> = HashMap::new();
    let mut checked = Vec::with_capacity(comments.len());
    for (i, cm) in comments.iter().enumerate() {
        let p = |field: &str| format!("comments[{i}].{field}");
        if let Some(id) = cm.id {
            if by_file_id.insert(id, i).is_some() {
                return Err(at(p("id"), format!("id {id} appears twice")));
            }
        }
        let post_id = match posts.get(&cm.post) {
            Some(id) => *id,
            None => posts::id_by_slug(c, &cm.post)?
                .ok_or_else(|| at(p("post"), format!("no post with slug {:?}", cm.post)))?,
        };
        if !matches!(cm.status.as_str(), "pending" | "approved" | "spam") {
            return Err(at(
                p("status"),
                format!("{:?} is not pending, approved or spam", cm.status),
            ));
        }
        if cm.body.trim().is_empty() {
            return Err(at(p("body"), "a comment needs a body"));
        }
        let email = if cm.author_email.trim().is_empty() {
            String::new()
        } else {
            users::normalize_email(&cm.author_email).map_err(|m| at(p("author_email"), m))?
        };
        let created = time(|| p("created_at"), &cm.created_at)?;
        let user_id = match &cm.user {
            Some(name) => Some(user_id(c, users, name).map_err(|m| at(p("user"), m))?),
            None => None,
        };
        checked.push((post_id, email, created, user_id));
    }
    for (i, cm) in comments.iter().enumerate() {
        if let Some(parent) = cm.parent {
            let Some(&j) = by_file_id.get(&parent) else {
                return Err(at(
                    format!("comments[{i}].parent"),
                    format!("no comment with id {parent} in the file"),
                ));
            };
            if checked[j].0 != checked[i].0 {
                return Err(at(
                    format!("comments[{i}].parent"),
                    "the parent comment is on another post",
                ));
            }
        }
    }

    let order = parents_first(comments, &by_file_id)?;
    let mut db_ids: Vec<Option<i64>> = vec![None; comments.len()];
    for i in order {
        let cm = &comments[i];
        let (post_id, email, created, user_id) = &checked[i];
        let parent_id = cm
            .parent
            .and_then(|p| by_file_id.get(&p))
            .and_then(|&j| db_ids[j]);
        let html = markdown::render_comment(&cm.body);
        let record = comments::store::NewComment {
            post_id: *post_id,
            parent_id,
            user_id: *user_id,
            author_name: &cm.author_name,
            author_email: email,
            body: &cm.body,
            body_html: &html,
            status: &cm.status,
            created_at: *created,
            ip: cm.ip.as_deref(),
            notify_replies: cm.notify_replies,
            unsubscribe_hash: cm.unsubscribe_hash.as_deref(),
        };
        let id = comments::store::upsert_imported(c, &record)?;
        db_ids[i] = Some(id);
        report.comments += 1;
    }
    Ok(())
}

/// Indexes of `comments` ordered so every parent comes before its replies.
fn parents_first(
    comments: &[CommentRecord],
    by_file_id: &HashMap<i64, usize>,
) -> Result<Vec<usize>> {
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut order = Vec::with_capacity(comments.len());
    let mut stack = Vec::new();
    for (i, cm) in comments.iter().enumerate() {
        match cm.parent.and_then(|p| by_file_id.get(&p)) {
            Some(&j) => children.entry(j).or_default().push(i),
            None => stack.push(i),
        }
    }
    stack.reverse();
    while let Some(i) = stack.pop() {
        order.push(i);
        if let Some(kids) = children.remove(&i) {
            stack.extend(kids.into_iter().rev());
        }
    }
    if order.len() < comments.len() {
        let stuck = (0..comments.len())
            .find(|i| !order.contains(i))
            .unwrap_or(0);
        return Err(at(
            format!("comments[{stuck}].parent"),
            "replies form a loop",
        ));
    }
    Ok(order)
}
