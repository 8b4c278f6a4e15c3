//! `?page=N` pagination: which rows to fetch, and 404 past the end.

use serde::Serialize;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize)]
pub struct Pagination {
    pub page: u32,
    pub pages: u32,
    pub per_page: u32,
    pub total: i64,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
}

/// The requested page number: absent means 1, 0 or garbage is "no such page".
pub fn requested(page: Option<&str>) -> Result<u32> {
    match page {
        None => Ok(1),
        Some(p) => match p.parse::<u32>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(Error::NotFound),
        },
    }
}

/// Offset of the first row of `page`.
pub fn offset(page: u32, per_page: u32) -> i64 {
    i64::from(page.saturating_sub(1)) * i64::from(per_page)
}

impl Pagination {
    /// Builds the pager for `total` rows; a page past the end is a 404
    /// (page 1 of an empty list is fine: an empty blog still has a home page).
    pub fn new(page: u32, per_page: u32, total: i64, path: &str) -> Result<Pagination> {
        let per = i64::from(per_page.max(1));
        let pages = u32::try_from(((total + per - 1) / per).max(1)).unwrap_or(u32::MAX);
        if page == 0 || page > pages {
            return Err(Error::NotFound);
        }
        // `path` may already carry a query (`/search?q=…`).
        let sep = if path.contains('?') { '&' } else { '?' };
        let link = |n: u32| {
            if n == 1 {
                path.to_owned()
            } else {
                format!("{path}{sep}page={n}")
            }
        };
        Ok(Pagination {
            page,
            pages,
            per_page,
            total,
            prev_url: (page > 1).then(|| link(page - 1)),
            next_url: (page < pages).then(|| link(page + 1)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages() {
        let p = Pagination::new(2, 10, 25, "/").unwrap();
        assert_eq!(p.pages, 3);
        assert_eq!(p.prev_url.as_deref(), Some("/"));
        assert_eq!(p.next_url.as_deref(), Some("/?page=3"));
        assert!(Pagination::new(4, 10, 25, "/").is_err());
        assert!(Pagination::new(1, 10, 0, "/").is_ok());
        assert!(Pagination::new(2, 10, 0, "/").is_err());
        let q = Pagination::new(1, 10, 25, "/search?q=x").unwrap();
        assert_eq!(q.next_url.as_deref(), Some("/search?q=x&page=2"));
        assert!(requested(Some("0")).is_err());
        assert!(requested(Some("x")).is_err());
        assert_eq!(requested(None).unwrap(), 1);
    }
}
