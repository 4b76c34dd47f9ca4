//! Parse arbitrary strings as image references and digests: no panic, and a parsed
//! reference re-parses to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = barge::Digest::parse(s);
        if let Ok(r) = barge::Reference::parse(s) {
            let again = barge::Reference::parse(&r.to_string()).expect("a printed reference parses");
            assert_eq!(again, r);
        }
        let _ = barge::image::model::Manifest::parse(data, "fuzz");
        let _ = barge::image::model::ImageConfig::parse(data, "fuzz");
    }
});
