//! The blog: posts, pages and tags — the model, its SQL and the public routes.

pub mod model;
pub mod routes;
pub mod store;
pub mod write;

pub use model::{PostStatus, PostSummary};
