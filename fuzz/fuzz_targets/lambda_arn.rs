//! Any query pairs for the Lambda ARN builder: validation never panics; accepted input
//! builds an ARN of the documented shape.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use podmeta::Table;
use podmeta::internals::LambdaArnParams;

static TABLE: LazyLock<Table> = LazyLock::new(|| Table::builtin().expect("the built-in table loads"));

fuzz_target!(|pairs: Vec<(String, String)>| {
    let table = &*TABLE;
    let Ok(params) = LambdaArnParams::parse(&pairs, table.rules()) else {
        return;
    };
    let region = &table.pods()[2].aws_region;
    let arn = podmeta::internals::lambda_arn(region, &params.account_id, &params.function, &params.alias);
    let parts: Vec<&str> = arn.split(':').collect();
    assert_eq!(parts.len(), 8, "{arn}");
    assert_eq!(parts[4].len(), 12);
    assert!(parts[6].starts_with("mpr") && parts[6].len() <= 64);
    assert!(parts[7] == "PROD" || parts[7] == "$LATEST");
});
