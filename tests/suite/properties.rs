//! Property tests: the bucket-name validator agrees with an independent statement of the
//! S3 rules; every accepted name renders a policy that names it exactly; in any valid
//! table, every host and IP looks up to its own pod.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use podmeta::internals::BucketName;
use podmeta::internals::LookupQuery;
use podmeta::{Catalog, Table};
use proptest::prelude::*;
use regex::Regex;

static TABLE: LazyLock<Table> = LazyLock::new(|| Table::builtin().unwrap());

/// The S3 general-purpose bucket rules and the forwarding prefix, as the facts file
/// states them, written as regular expressions rather than as podmeta's byte checks.
fn s3_and_forwarding_rules_hold(name: &str) -> bool {
    static SHAPE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$").unwrap());
    static IPV4: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$").unwrap());
    static RESERVED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(xn--|sthree-|amzn-s3-demo-)|(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$")
            .unwrap()
    });
    SHAPE.is_match(name)
        && !name.contains("..")
        && !IPV4.is_match(name)
        && !RESERVED.is_match(name)
        && name.starts_with("mp-forwarding-")
}

/// Names near the rules' edges: mostly forwarding names, with the characters and the
/// reserved affixes that break them.
fn bucket_names() -> impl Strategy<Value = String> {
    let tail =
        "[a-z0-9.\\-]{0,52}(-s3alias|--ol-s3|\\.mrap|--x-s3|--table-s3|\\.\\.|-|\\.|[A-Z_ ]|)";
    prop_oneof![
        tail.prop_map(|t| format!("mp-forwarding-{t}")),
        "(xn--|sthree-|amzn-s3-demo-|mp-forwarding|MP-)[a-z0-9.\\-]{0,55}",
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        "\\PC{0,70}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn the_validator_agrees_with_the_s3_rules(name in bucket_names()) {
        let accepted = BucketName::parse(&TABLE.s3().bucket_prefix, &name).is_ok();
        prop_assert_eq!(accepted, s3_and_forwarding_rules_hold(&name), "{:?}", name);
    }

    #[test]
    fn every_accepted_name_renders_a_policy_naming_it_exactly(name in bucket_names()) {
        if let Ok(bucket) = BucketName::parse(&TABLE.s3().bucket_prefix, &name) {
            for pod in TABLE.pods() {
                let policy: serde_json::Value =
                    serde_json::from_str(&podmeta::internals::bucket_policy(&pod.s3.principals, &bucket, podmeta::Style::Pretty)).unwrap();
                let statements = policy["Statement"].as_array().unwrap();
                prop_assert_eq!(statements.len(), 2);
                for statement in statements {
                    prop_assert_eq!(statement["Resource"].as_str().unwrap(), format!("arn:aws:s3:::{name}/*"));
                }
            }
        }
    }
}

/// A valid table of 1 to 8 pods with distinct ids, hosts and IPs under a random domain.
fn tables() -> impl Strategy<Value = (String, Vec<(String, Vec<String>, String)>)> {
    (
        prop::collection::btree_set("[a-z]{2}[0-9]{1,3}", 1..8),
        "[a-z]{1,8}\\.(com|net|io)",
        prop::collection::btree_set(any::<u32>(), 8),
    )
        .prop_map(|(ids, domain, ips)| {
            let ips: Vec<std::net::Ipv4Addr> = ips.into_iter().map(std::net::Ipv4Addr::from).collect();
            let head = podmeta::BUILTIN_TOML.split("[[pods]]").next().unwrap().replace("default_pod = \"us1\"", "");
            let ids: Vec<String> = ids.into_iter().collect::<BTreeSet<_>>().into_iter().collect();
            let mut text = format!("default_pod = \"{}\"\n{head}", ids[0]);
            let mut pods = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                let ip = ips[i].to_string();
                let hosts = vec![
                    format!("app.{id}.{domain}"),
                    format!("s2s.{id}.{domain}"),
                    format!("sftp.{id}.{domain}"),
                ];
                text.push_str(&format!(
                    "\n[[pods]]\nid = \"{id}\"\nlocation = \"L{i}\"\naws_region = \"eu-west-1\"\nlogin_urls = [\"https://{}\"]\n\
                     [pods.events_api]\nevents = [\"https://{s2s}/v2/events\"]\nbulkevents = [\"https://{s2s}/v2/bulkevents\"]\n\
                     bulkevents_historical = [\"https://{s2s}/v2/bulkevents/historical\"]\n\
                     [pods.sftp]\nhosts = [\"{}\"]\nport = 22\nip = \"{ip}\"\n\
                     [pods.s3]\nprincipals = [\"arn:aws:iam::{acct:012}:role/a\", \"arn:aws:iam::{acct:012}:role/b\"]\n",
                    hosts[0],
                    hosts[2],
                    s2s = hosts[1],
                    acct = 100_000_000_000u64 + i as u64,
                ));
                pods.push((id.clone(), hosts, ip));
            }
            (text, pods)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_host_and_ip_of_a_table_looks_up_to_its_own_pod((text, pods) in tables(), upper in any::<bool>()) {
        let catalog = Catalog::new(Table::from_toml("generated.toml", &text).unwrap());
        let ask = |name: &str, value: &str| -> Vec<String> {
            let query = LookupQuery::parse(&[(name.to_owned(), value.to_owned())]).unwrap();
            let answer = catalog.lookup_json(&query, podmeta::Style::Pretty).expect("a match");
            let body: serde_json::Value = serde_json::from_slice(&answer).unwrap();
            body["pods"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect()
        };
        for (id, hosts, ip) in &pods {
            for host in hosts {
                let host = if upper { host.to_ascii_uppercase() } else { host.clone() };
                prop_assert_eq!(ask("host", &host), vec![id.clone()]);
                prop_assert_eq!(ask("url", &format!("https://{host}/x")), vec![id.clone()]);
            }
            prop_assert_eq!(ask("ip", ip), vec![id.clone()]);
        }
    }
}
