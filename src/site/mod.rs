//! The site itself, beside the blog: the settings an admin changes in the
//! admin, the contact form, rate limits and housekeeping.

pub mod contact;
pub mod housekeeping;
pub mod rate_limits;
pub mod settings;

use rocket::fairing::AdHoc;

use crate::config::Settings;
use crate::db::Conn;
use crate::error::Result;
use crate::web::view::NavLink;

/// The contact form, and what every page shows of the site (`chrome`).
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Site", |rocket| async {
        rocket
            .manage(crate::web::view::Chrome(chrome))
            .mount("/", contact::routes())
    })
}

/// What every page shows of the site (`web::view::Chrome`): the settings with
/// the admin's overrides, and the pages linked from the navigation.
pub fn chrome(c: &mut Conn, base: &Settings) -> Result<(Settings, Vec<NavLink>)> {
    Ok((
        settings::effective(c, base)?,
        crate::blog::pages::nav_pages(c)?,
    ))
}
