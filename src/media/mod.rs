//! Media: safe image handling for uploads (avatars now, the media library later).

pub mod images;
pub mod library;
