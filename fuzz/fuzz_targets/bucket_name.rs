//! Any bucket name: validation never panics; an accepted name keeps the S3 rules and
//! renders a policy that is JSON and names the bucket exactly.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use podmeta::Table;
use podmeta::internals::BucketName;

static TABLE: LazyLock<Table> = LazyLock::new(|| Table::builtin().expect("the built-in table loads"));

fuzz_target!(|name: &str| {
    let table = &*TABLE;
    let prefix = &table.s3().bucket_prefix;
    let Ok(bucket) = BucketName::parse(prefix, name) else {
        return;
    };
    assert!((3..=63).contains(&name.len()));
    assert!(name.starts_with("mp-forwarding-"));
    assert!(!name.contains(".."));
    let principals = &table.pods()[0].s3.principals;
    let policy: serde_json::Value =
        serde_json::from_str(&podmeta::internals::bucket_policy(principals, &bucket, podmeta::Style::Pretty)).expect("JSON");
    for statement in policy["Statement"].as_array().expect("statements") {
        assert_eq!(statement["Resource"], format!("arn:aws:s3:::{name}/*"));
    }
});
