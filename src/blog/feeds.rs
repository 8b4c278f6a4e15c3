//! Feeds (RSS 2.0, Atom, JSON Feed 1.1, per-tag RSS), the sitemap and robots.txt,
//! all with absolute URLs from `site_url`.

use rocket::http::ContentType;
use rocket::{get, routes, uri, Route, State};
use time::format_description::well_known::Rfc2822;

use crate::blog::posts::{self, Scope};
use crate::blog::PostSummary;
use crate::config::Settings;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::ground::dates;
use crate::web::cache::{CacheKey, Cached};
use crate::web::view::PageResponse;
use crate::web::Site;

pub fn routes() -> Vec<Route> {
    routes![rss_feed, atom_feed, json_feed, tag_feed, sitemap, robots]
}

/// How many posts a feed carries.
pub const FEED_LENGTH: u32 = 20;

fn document(body: String, content_type: ContentType, last_modified: Option<i64>) -> Cached {
    Cached::new(body, content_type, last_modified)
}

/// Site-relative links and images in a post body made absolute, for feed readers.
fn absolute(html: &str, base: &str) -> String {
    html.replace("=\"/", &format!("=\"{base}/"))
        .replace(", /media/", &format!(", {base}/media/"))
}

fn newest(posts: &[PostSummary]) -> Option<i64> {
    posts
        .iter()
        .map(|p| dates::parse_rfc3339(&p.updated_at).unwrap_or(p.published_ts))
        .max()
}

async fn latest(db: &Db, scope: Scope) -> Result<Vec<PostSummary>> {
    db.run(move |c| posts::latest_with_bodies(c, scope, dates::now(), FEED_LENGTH))
        .await
}

fn author_name(p: &PostSummary) -> String {
    if p.author.display_name.trim().is_empty() {
        p.author.username.clone()
    } else {
        p.author.display_name.clone()
    }
}

fn rss(settings: &Settings, posts: &[PostSummary], title: &str, self_path: &str) -> String {
    let base = &settings.site_url;
    let items: Vec<rss::Item> = posts
        .iter()
        .map(|p| {
            let url = format!("{base}{}", p.url);
            let pub_date = time::OffsetDateTime::from_unix_timestamp(p.published_ts)
                .ok()
                .and_then(|d| d.format(&Rfc2822).ok());
            rss::ItemBuilder::default()
                .title(Some(p.title.clone()))
                .link(Some(url.clone()))
                .guid(Some(
                    rss::GuidBuilder::default()
                        .value(url)
                        .permalink(true)
                        .build(),
                ))
                .pub_date(pub_date)
                .description(Some(p.excerpt.clone()))
                .content(p.body_html.as_deref().map(|h| absolute(h, base)))
                .categories(
                    p.tags
                        .iter()
                        .map(|t| rss::CategoryBuilder::default().name(t.name.clone()).build())
                        .collect::<Vec<_>>(),
                )
                .dublin_core_ext(Some(
                    rss::extension::dublincore::DublinCoreExtensionBuilder::default()
                        .creators(vec![author_name(p)])
                        .build(),
                ))
                .build()
        })
        .collect();
    let mut atom_link = rss::extension::atom::Link::default();
    atom_link.set_href(format!("{base}{self_path}"));
    atom_link.set_rel("self");
    atom_link.set_mime_type(Some("application/rss+xml".to_owned()));
    rss::ChannelBuilder::default()
        .title(title.to_owned())
        .link(format!("{base}/"))
        .description(if settings.site_description.is_empty() {
            settings.site_title.clone()
        } else {
            settings.site_description.clone()
        })
        .language(Some(settings.site_lang.clone()))
        .generator(Some("Carnet".to_owned()))
        .last_build_date(
            newest(posts)
                .and_then(|ts| time::OffsetDateTime::from_unix_timestamp(ts).ok())
                .and_then(|d| d.format(&Rfc2822).ok()),
        )
        .atom_ext(Some(
            rss::extension::atom::AtomExtensionBuilder::default()
                .links(vec![atom_link])
                .build(),
        ))
        .items(items)
        .build()
        .to_string()
}

fn fixed(ts: i64) -> atom_syndication::FixedDateTime {
    chrono::DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .fixed_offset()
}

fn atom(settings: &Settings, posts: &[PostSummary]) -> String {
    use atom_syndication::{Category, Content, Entry, Feed, Link, Person, Text};
    let base = &settings.site_url;
    let link = |href: String, rel: &str| Link {
        href,
        rel: rel.to_owned(),
        ..Default::default()
    };
    let entries = posts
        .iter()
        .map(|p| {
            let url = format!("{base}{}", p.url);
            Entry {
                title: Text::plain(p.title.clone()),
                id: url.clone(),
                updated: fixed(dates::parse_rfc3339(&p.updated_at).unwrap_or(p.published_ts)),
                published: Some(fixed(p.published_ts)),
                authors: vec![Person {
                    name: author_name(p),
                    uri: Some(format!("{base}{}", p.author.url)),
                    ..Default::default()
                }],
                categories: p
                    .tags
                    .iter()
                    .map(|t| Category {
                        term: t.slug.clone(),
                        label: Some(t.name.clone()),
                        ..Default::default()
                    })
                    .collect(),
                links: vec![link(url, "alternate")],
                summary: Some(Text::plain(p.excerpt.clone())),
                content: p.body_html.as_deref().map(|h| Content {
                    value: Some(absolute(h, base)),
                    content_type: Some("html".to_owned()),
                    ..Default::default()
                }),
                ..Default::default()
            }
        })
        .collect();
    Feed {
        title: Text::plain(settings.site_title.clone()),
        subtitle: (!settings.site_description.is_empty())
            .then(|| Text::plain(settings.site_description.clone())),
        id: format!("{base}/"),
        updated: fixed(newest(posts).unwrap_or(0)),
        links: vec![
            link(format!("{base}/atom.xml"), "self"),
            link(format!("{base}/"), "alternate"),
        ],
        entries,
        ..Default::default()
    }
    .to_string()
}

fn json(settings: &Settings, posts: &[PostSummary]) -> String {
    let base = &settings.site_url;
    let items: Vec<serde_json::Value> = posts
        .iter()
        .map(|p| {
            let url = format!("{base}{}", p.url);
            serde_json::json!({
                "id": url,
                "url": url,
                "title": p.title,
                "content_html": p.body_html.as_deref().map(|h| absolute(h, base)).unwrap_or_default(),
                "summary": p.excerpt,
                "date_published": p.published_at,
                "date_modified": p.updated_at,
                "authors": [{"name": author_name(p), "url": format!("{base}{}", p.author.url)}],
                "tags": p.tags.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
                "image": p.cover_url.as_ref().map(|c| format!("{base}{c}")),
            })
        })
        .collect();
    let feed = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": settings.site_title,
        "home_page_url": format!("{base}/"),
        "feed_url": format!("{base}/feed.json"),
        "description": settings.site_description,
        "language": settings.site_lang,
        "items": items,
    });
    serde_json::to_string_pretty(&feed).unwrap_or_default()
}

fn rss_type() -> ContentType {
    ContentType::new("application", "rss+xml").with_params(("charset", "utf-8"))
}

#[get("/feed.xml")]
async fn rss_feed(db: &State<Db>, site: Site<'_>, key: CacheKey) -> Result<PageResponse> {
    if let Some(hit) = site.cached(&key, None) {
        return Ok(hit);
    }
    let posts = latest(db, Scope::All).await?;
    let body = rss(
        &site.settings,
        &posts,
        &site.settings.site_title,
        "/feed.xml",
    );
    Ok(site.document(&key, document(body, rss_type(), newest(&posts))))
}

#[get("/atom.xml")]
async fn atom_feed(db: &State<Db>, site: Site<'_>, key: CacheKey) -> Result<PageResponse> {
    if let Some(hit) = site.cached(&key, None) {
        return Ok(hit);
    }
    let posts = latest(db, Scope::All).await?;
    let content_type =
        ContentType::new("application", "atom+xml").with_params(("charset", "utf-8"));
    Ok(site.document(
        &key,
        document(atom(&site.settings, &posts), content_type, newest(&posts)),
    ))
}

#[get("/feed.json")]
async fn json_feed(db: &State<Db>, site: Site<'_>, key: CacheKey) -> Result<PageResponse> {
    if let Some(hit) = site.cached(&key, None) {
        return Ok(hit);
    }
    let posts = latest(db, Scope::All).await?;
    let content_type =
        ContentType::new("application", "feed+json").with_params(("charset", "utf-8"));
    Ok(site.document(
        &key,
        document(json(&site.settings, &posts), content_type, newest(&posts)),
    ))
}

#[get("/tags/<slug>/feed.xml")]
async fn tag_feed(
    db: &State<Db>,
    site: Site<'_>,
    key: CacheKey,
    slug: &str,
) -> Result<PageResponse> {
    if let Some(hit) = site.cached(&key, None) {
        return Ok(hit);
    }
    let lookup = slug.to_owned();
    let (id, name) = db
        .run(move |c| crate::blog::tags::tag_by_slug(c, &lookup))
        .await?
        .ok_or(Error::NotFound)?;
    let posts = latest(db, Scope::Tag(id)).await?;
    let title = format!("{} · {name}", site.settings.site_title);
    let body = rss(
        &site.settings,
        &posts,
        &title,
        &uri!(tag_feed(slug)).to_string(),
    );
    Ok(site.document(&key, document(body, rss_type(), newest(&posts))))
}

/// The most URLs one sitemap file may list (sitemaps.org); a larger site gets
/// a sitemap index at `/sitemap.xml` pointing to `/sitemap.xml?part=N`.
const SITEMAP_URLS: usize = 50_000;

#[get("/sitemap.xml?<part>")]
async fn sitemap(
    db: &State<Db>,
    site: Site<'_>,
    key: CacheKey,
    part: Option<usize>,
) -> Result<PageResponse> {
    if let Some(hit) = site.cached(&key, None) {
        return Ok(hit);
    }
    let entries = db.run(|c| posts::sitemap_entries(c, dates::now())).await?;
    let (body, modified) = sitemap_xml(&site.settings.site_url, &entries, part, SITEMAP_URLS)?;
    Ok(site.document(&key, document(body, ContentType::XML, modified)))
}

/// The sitemap for `entries` (site paths and their last change): one `urlset`,
/// or past `per_file` URLs a `sitemapindex` of parts (`part` picks one, from 1).
fn sitemap_xml(
    site_url: &str,
    entries: &[(String, i64)],
    part: Option<usize>,
    per_file: usize,
) -> Result<(String, Option<i64>)> {
    use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
    let parts: Vec<&[(String, i64)]> = entries.chunks(per_file.max(1)).collect();
    let (root, item, listed): (&str, &str, Vec<(String, i64)>) = match part {
        None if parts.len() > 1 => (
            "sitemapindex",
            "sitemap",
            parts
                .iter()
                .enumerate()
                .map(|(i, chunk)| {
                    let newest = chunk.iter().map(|(_, m)| *m).max().unwrap_or(0);
                    (format!("/sitemap.xml?part={}", i + 1), newest)
                })
                .collect(),
        ),
        None => ("urlset", "url", entries.to_vec()),
        Some(n) => (
            "urlset",
            "url",
            n.checked_sub(1)
                .and_then(|i| parts.get(i))
                .ok_or(Error::NotFound)?
                .to_vec(),
        ),
    };
    let mut w = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 1);
    let fail = |e: std::io::Error| Error::internal("sitemap", e);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(fail)?;
    w.write_event(Event::Start(BytesStart::new(root).with_attributes([(
        "xmlns",
        "http://www.sitemaps.org/schemas/sitemap/0.9",
    )])))
    .map_err(fail)?;
    for (path, modified) in &listed {
        w.write_event(Event::Start(BytesStart::new(item)))
            .map_err(fail)?;
        for (tag, text) in [
            ("loc", format!("{site_url}{path}")),
            ("lastmod", dates::rfc3339(*modified)),
        ] {
            w.write_event(Event::Start(BytesStart::new(tag)))
                .map_err(fail)?;
            w.write_event(Event::Text(BytesText::new(&text)))
                .map_err(fail)?;
            w.write_event(Event::End(BytesEnd::new(tag)))
                .map_err(fail)?;
        }
        w.write_event(Event::End(BytesEnd::new(item)))
            .map_err(fail)?;
    }
    w.write_event(Event::End(BytesEnd::new(root)))
        .map_err(fail)?;
    let body = String::from_utf8(w.into_inner()).map_err(|e| Error::internal("sitemap", e))?;
    Ok((body, listed.iter().map(|(_, m)| *m).max()))
}

#[get("/robots.txt")]
fn robots(site: Site<'_>) -> (ContentType, String) {
    (
        ContentType::Plain,
        format!(
            "User-agent: *\nAllow: /\nDisallow: /admin\nDisallow: /accounts/\nDisallow: /search\n\nSitemap: {}/sitemap.xml\n",
            site.settings.site_url
        ),
    )
}

#[cfg(test)]
mod sitemap_tests {
    use super::*;

    #[test]
    fn a_large_site_gets_a_sitemap_index_of_parts() {
        let entries: Vec<(String, i64)> = (1..=5).map(|i| (format!("/posts/p{i}"), i)).collect();
        let (small, newest) = sitemap_xml("https://b.example", &entries, None, 10).unwrap();
        assert!(small.contains("<urlset") && small.matches("<url>").count() == 5);
        assert_eq!(newest, Some(5));
        let (index, _) = sitemap_xml("https://b.example", &entries, None, 2).unwrap();
        assert!(index.contains("<sitemapindex"), "{index}");
        assert_eq!(index.matches("<sitemap>").count(), 3);
        assert!(index.contains("<loc>https://b.example/sitemap.xml?part=3</loc>"));
        let (last, newest) = sitemap_xml("https://b.example", &entries, Some(3), 2).unwrap();
        assert!(
            last.contains("<loc>https://b.example/posts/p5</loc>")
                && last.matches("<url>").count() == 1
        );
        assert_eq!(newest, Some(5));
        assert!(matches!(
            sitemap_xml("x", &entries, Some(4), 2),
            Err(Error::NotFound)
        ));
        assert!(matches!(
            sitemap_xml("x", &entries, Some(0), 2),
            Err(Error::NotFound)
        ));
    }
}
