//! The blog: posts, pages and tags — the model, its SQL, the public routes,
//! feeds, the sitemap and search.

pub mod body;
pub mod feeds;
pub mod input;
pub mod links;
pub mod model;
pub mod pages;
pub mod posts;
pub mod publish;
pub mod routes;
pub mod search;
pub mod tags;

pub use model::{PostStatus, PostSummary};

use rocket::fairing::AdHoc;

/// The public blog: posts, pages, tags, archives, feeds, the sitemap and
/// search; and the page cache, which asks the blog how fresh it is.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Blog", |rocket| async {
        rocket
            .manage(crate::web::cache::PageCache::new(posts::freshness))
            .mount("/", routes::routes())
            .mount("/", feeds::routes())
            .mount("/", search::routes())
    })
}
