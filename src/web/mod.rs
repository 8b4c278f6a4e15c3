//! The web layer shared by every domain: templates, static assets, security
//! headers, error pages, pagination and the page context every view gets.

pub mod assets;
pub mod body;
pub mod cache;
pub mod conditional;
pub mod csrf;
pub mod errors;
pub mod forms;
pub mod headers;
pub mod pagination;
pub mod rate_limit;
pub mod templates;
pub mod view;

pub use pagination::Pagination;
pub use view::{Site, View};
