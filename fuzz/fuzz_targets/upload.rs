//! The upload pipeline after the multipart form: sniffing, decoding under
//! limits, re-encoding and resizing any bytes. Refusals are fine; a panic, or
//! files left behind by a refused upload, are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    match carnet::media::library::process(dir.path(), data) {
        Ok(done) => assert!(dir.path().join(&done.file_name).is_file()),
        Err(_) => {
            let left = std::fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0);
            assert_eq!(left, 0, "a refused upload left files");
        }
    }
});
