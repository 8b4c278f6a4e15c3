//! The Tera engine: templates embedded in the binary, each overridable by a file
//! of the same name under `<data_dir>/templates/`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rocket::fairing::Fairing;
use rocket_dyn_templates::tera::{self, Tera};
use rocket_dyn_templates::Template;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Embedded;

/// Templates being parsed on a thread of their own (see `parse_in_background`).
pub type Parsing = std::thread::JoinHandle<Result<Tera, tera::Error>>;

/// Starts parsing the site's templates on a thread of its own. Parsing is
/// most of start-up time: `serve` starts it before opening the database so
/// the two overlap, then takes the engine with `finish`.
pub fn parse_in_background(override_dir: PathBuf) -> Parsing {
    std::thread::spawn(move || engine(&override_dir, ""))
}

/// Waits for the parse started by `parse_in_background`.
pub fn finish(parsing: Parsing) -> crate::error::Result<Tera> {
    parsing
        .join()
        .map_err(|_| {
            crate::error::Error::Config("the template parser stopped unexpectedly".into())
        })?
        .map_err(|e| crate::error::Error::Config(format!("templates: {}", describe(&e))))
}

/// A Tera error with its causes on one line ("Failed to parse 'x.html': …"),
/// which the top-level message alone does not say.
pub fn describe(e: &tera::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string().replace('\n', " "));
        cause = c.source();
    }
    text
}

/// The fairing that installs the engine; `override_dir` is `<data_dir>/templates`.
/// The first build takes `parsed`; a reload (debug builds, when a file
/// changes) parses again.
pub fn fairing(override_dir: PathBuf, parsed: Tera) -> impl Fairing {
    let parsed = std::sync::Mutex::new(Some(parsed));
    Template::try_custom(move |engines| {
        match parsed.lock().ok().and_then(|mut p| p.take()) {
            Some(tera) => engines.tera = tera,
            None => configure(&mut engines.tera, &override_dir, "")?,
        }
        Ok(())
    })
}

/// Adds every template whose name starts with `under` (embedded, then
/// overrides from disk) in one call so `{% extends %}` resolves whatever the
/// order, and registers our functions.
pub fn configure(tera: &mut Tera, override_dir: &Path, under: &str) -> Result<(), tera::Error> {
    let mut all: BTreeMap<String, String> = BTreeMap::new();
    for name in Embedded::iter().filter(|n| is_template(n) && n.starts_with(under)) {
        if let Some(file) = Embedded::get(&name) {
            all.insert(
                name.to_string(),
                String::from_utf8_lossy(&file.data).into_owned(),
            );
        }
    }
    collect_overrides(override_dir, override_dir, &mut all);
    all.retain(|name, _| name.starts_with(under));
    tera.add_raw_templates(all.into_iter().collect::<Vec<_>>())?;
    tera.register_function("asset", asset_function);
    tera.set_escape_fn(escape_html);
    Ok(())
}

/// Reads `*.html`, `*.txt`, `*.xml` files below `dir`, named by their relative path.
fn collect_overrides(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_overrides(root, &path, out);
            continue;
        }
        let (Ok(rel), true) = (
            path.strip_prefix(root),
            is_template(&path.to_string_lossy()),
        ) else {
            continue;
        };
        let name = rel.to_string_lossy().replace('\\', "/");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                out.insert(name, text);
            }
            Err(e) => log::warn!("template override {} ignored: {e}", path.display()),
        }
    }
}

pub use crate::ground::html::escape_html;

fn is_template(name: &str) -> bool {
    [".html", ".txt", ".xml"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

fn asset_function(args: &HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
    let name = args
        .get("name")
        .and_then(|v| v.as_str())
        .ok_or_else(|| tera::Error::msg("asset(name=...) needs a name"))?;
    Ok(tera::Value::String(super::assets::url(name)))
}

/// A standalone engine with the templates under `under` (e.g. `mail/`), for
/// rendering outside a request. Parsing is most of start-up time, so it parses
/// only what it will render.
pub fn engine(override_dir: &Path, under: &str) -> Result<Tera, tera::Error> {
    let mut tera = Tera::default();
    configure(&mut tera, override_dir, under)?;
    Ok(tera)
}
