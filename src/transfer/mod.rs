//! `carnet export` / `carnet import`: the whole site as one JSON document
//! (format "carnet", version 1). Import checks everything before writing, then
//! writes in one transaction, and is idempotent (users by username, tags, posts
//! and pages by slug, comments by post + author email + creation time).

mod export;
pub mod format;
mod import;

pub use export::export;
pub use format::SiteFile;
pub use import::{import, parse, Report};
