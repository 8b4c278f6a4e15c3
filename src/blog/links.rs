//! Addresses of the blog's public pages, built from their routes with `uri!`:
//! a route that moves takes its links along, and every segment is
//! percent-encoded (an imported slug with any character stays a valid link).

use rocket::uri;

use super::routes;

/// `/posts/<slug>`.
pub fn post(slug: &str) -> String {
    uri!(routes::post(slug, _, _)).to_string()
}

/// `/pages/<slug>`.
pub fn page(slug: &str) -> String {
    uri!(routes::page(slug)).to_string()
}

/// `/tags/<slug>`.
pub fn tag(slug: &str) -> String {
    uri!(routes::tag(slug, _)).to_string()
}

/// `/authors/<username>`.
pub fn author(username: &str) -> String {
    uri!(routes::author(username, _)).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_are_the_routes_paths_and_encode_what_they_must() {
        assert_eq!(super::post("hello-world"), "/posts/hello-world");
        assert_eq!(super::page("about"), "/pages/about");
        assert_eq!(super::tag("rust"), "/tags/rust");
        assert_eq!(super::author("ann"), "/authors/ann");
        assert_eq!(super::post("café au lait"), "/posts/caf%C3%A9%20au%20lait");
    }
}
