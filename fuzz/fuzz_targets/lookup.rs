//! Any query pairs for `/lookup`: parsing and answering never panic; an answer names
//! pods of the table, and an error never repeats an API key.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use podmeta::internals::LookupQuery;
use podmeta::{Catalog, Table};

static CATALOG: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::new(Table::builtin().expect("the built-in table loads")));

fuzz_target!(|pairs: Vec<(String, String)>| {
    match LookupQuery::parse(&pairs) {
        Ok(query) => {
            if let Ok(answer) = CATALOG.lookup_json(&query, podmeta::Style::Pretty) {
                let body: serde_json::Value = serde_json::from_slice(&answer).expect("JSON");
                assert!(!body["pods"].as_array().expect("pods").is_empty());
            }
        }
        Err(e) => {
            let message = e.to_string();
            // A lone api_key parameter: its value must not come back. (With several
            // parameters a key could also be another parameter's name, which is quoted.)
            if let [(name, value)] = pairs.as_slice()
                && name == "api_key"
                && value.len() >= 8
            {
                assert!(!message.contains(value.as_str()), "an API key in: {message}");
            }
        }
    }
});
