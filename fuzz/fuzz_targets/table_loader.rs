//! Arbitrary bytes as a table file: loading never panics, and a table that loads renders
//! every body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podmeta::{Catalog, Table};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Table::from_toml("fuzz.toml", text) {
        Ok(table) => {
            let catalog = Catalog::new(table);
            assert!(!catalog.pods_body().body().is_empty());
        }
        // Formatting the error walks lines and spans: it must not panic either.
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
