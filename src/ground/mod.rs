//! The ground floor: small helpers that every layer may use and that use
//! nothing of Carnet above them (no database, no web, no domain): random
//! tokens and digests, dates, Markdown rendering, HTML escaping and slugs.

pub mod dates;
pub mod html;
pub mod markdown;
pub mod slugs;
pub mod tokens;
