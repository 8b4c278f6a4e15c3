//! What every form shares: field types, the errors shown next to fields, and
//! the answer of a form handler (Rocket's own pattern: re-render with what was
//! typed and the errors, or redirect with a flash message).

use std::collections::BTreeMap;

use rocket::form::{self, FromFormField, ValueField};
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket_dyn_templates::Template;

/// A form's errors by field name, each shown next to its field.
pub type FieldErrors = BTreeMap<&'static str, String>;

/// A form handler's answer: done (redirect with a flash), or the form again
/// with its status (422 for errors) and the page that shows them.
pub type FormOutcome = Result<Flash<Redirect>, (Status, Template)>;

/// A checkbox or yes/no field: accepts `1`/`0`, `true`/`false`, `on`/`off`,
/// `yes`/`no` (what browsers, scripts and people send); missing means false.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flag(pub bool);

#[rocket::async_trait]
impl<'r> FromFormField<'r> for Flag {
    fn from_value(field: ValueField<'r>) -> form::Result<'r, Self> {
        match field.value.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "on" | "yes" | "" => Ok(Flag(true)),
            "0" | "false" | "off" | "no" => Ok(Flag(false)),
            _ => Err(form::Error::validation("expected a yes/no value").into()),
        }
    }

    fn default() -> Option<Self> {
        Some(Flag(false))
    }
}
