//! The import parser and importer: any document is either refused with the
//! JSON path of its first problem, or imported, in one transaction; never a
//! panic. Imports go into one SQLite file made at start.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

struct Site {
    _dir: tempfile::TempDir,
    db: carnet::db::Db,
}

fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("fuzz.db").display());
        let db = carnet::db::Db::open(&url).expect("database");
        carnet::db::migrations::apply(&db).expect("migrations");
        Site { _dir: dir, db }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match carnet::transfer::parse(text) {
        Ok(file) => {
            let mut conn = site().db.conn().expect("connection");
            if let Err(e) = carnet::transfer::import(&mut conn, &file) {
                // Refusals name a place in the file; nothing else may fail.
                assert!(
                    matches!(e, carnet::error::Error::Invalid(_) | carnet::error::Error::Conflict(_)),
                    "{e:?}"
                );
            }
        }
        Err(e) => assert!(matches!(e, carnet::error::Error::Invalid(_)), "{e:?}"),
    }
});
