//! Import arbitrary bytes as an archive into a fresh store: must never panic, and a failed
//! import must leave no image behind.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let mut store = barge::Store::open(dir.path()).unwrap();
    let input: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(data.to_vec()));
    let opts = barge::archive::ImportOptions::default();
    // Run with BARGE_NO_SYNC=1 so each input does not sync the disk.
    let r = barge::archive::import(&mut store, input, "fuzz", None, &opts, &barge::archive::Silent);
    if r.is_err() {
        assert!(store.images().unwrap().is_empty());
    }
});
