//! Apply arbitrary bytes as a layer: must never panic, and never write outside the target
//! directory (checked: the sibling canary directory stays empty).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("layer");
    let canary = dir.path().join("canary");
    std::fs::create_dir(&target).unwrap();
    std::fs::create_dir(&canary).unwrap();
    let _ = barge::layer::apply(data, &target, "fuzz", &barge::layer::ApplyOptions::default());
    assert_eq!(std::fs::read_dir(&canary).unwrap().count(), 0, "wrote outside the layer");
    let outside: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(outside.len(), 2, "wrote beside the layer: {outside:?}");
});
