//! Small form field types shared by every form.

use rocket::form::{self, FromFormField, ValueField};

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
