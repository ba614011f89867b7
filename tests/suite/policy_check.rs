//! Checking a customer's policy: `POST /pods/{pod}/bucket-policy/check` and
//! `POST /pods/{pod}/rules/iam-policy/check`. One test per rule, each with a policy that
//! breaks it and its twin that is the same but right; every AWS spelling of a right
//! policy; the rendered policies of every pod, checked (a round trip); and the problems.

use serde_json::{Value, json};

use crate::common::{TestApp, TestResponse, spawn_app};

const EU1_A: &str = "arn:aws:iam::583371261087:role/Prod-Role-DG12-Default";
const EU1_B: &str = "arn:aws:iam::583371261087:role/verifyrequest_lambda";
const US1_A: &str = "arn:aws:iam::338661164609:role/Prod-Role-DG12-Default";
const OBJECTS: &str = "arn:aws:s3:::mp-forwarding-acme/*";

/// EU1's policy for `mp-forwarding-acme`, as podmeta renders it.
fn right() -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Action": ["s3:PutObject", "s3:PutObjectAcl"], "Effect": "Allow",
         "Resource": OBJECTS, "Principal": {"AWS": [EU1_A]}},
        {"Action": ["s3:PutObject", "s3:PutObjectAcl"], "Effect": "Allow",
         "Resource": OBJECTS, "Principal": {"AWS": [EU1_B]}},
    ]})
}

/// `right()` with `edit` applied.
fn edited(edit: impl FnOnce(&mut Value)) -> Value {
    let mut policy = right();
    edit(&mut policy);
    policy
}

/// `right()` with one more statement.
fn with(statement: Value) -> Value {
    edited(|p| p["Statement"].as_array_mut().unwrap().push(statement))
}

async fn post(app: &TestApp, path: &str, body: &Value) -> TestResponse {
    app.post(path, Some("application/json"), body.to_string())
        .await
}

/// The answer of the bucket check for EU1, which must be a 200.
async fn check(policy: &Value) -> Value {
    check_at("/pods/eu1/bucket-policy/check", policy).await
}

async fn check_iam(pod: &str, policy: &Value) -> Value {
    check_at(&format!("/pods/{pod}/rules/iam-policy/check"), policy).await
}

async fn check_at(path: &str, policy: &Value) -> Value {
    let response = post(&spawn_app(), path, policy).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let answer = response.json();
    let errors = answer["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["severity"] == "error");
    assert_eq!(
        answer["ok"], !errors,
        "ok is whether no finding is an error"
    );
    answer
}

/// Each finding as `rule severity pointer`, the pointer `-` where it is null.
fn found(answer: &Value) -> Vec<String> {
    answer["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["rule"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["pointer"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

fn detail(answer: &Value, rule: &str) -> String {
    answer["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .map(|f| f["detail"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no {rule} in {answer}"))
}

#[tokio::test]
async fn the_rendered_policy_has_no_finding_and_is_what_is_expected() {
    let answer = check(&right()).await;
    assert_eq!(answer["ok"], true);
    assert_eq!(answer["pod"], "eu1");
    assert_eq!(answer["bucket"], "mp-forwarding-acme");
    assert_eq!(found(&answer), Vec::<String>::new());
    assert_eq!(answer["expected"], right());
}

#[tokio::test]
async fn an_answer_has_these_keys_and_only_a_bucket_answer_names_a_bucket() {
    // In the order of their names: a `Value` keeps its keys sorted.
    let keys =
        |answer: &Value| -> Vec<String> { answer.as_object().unwrap().keys().cloned().collect() };
    let wild = edited(|p| {
        for s in p["Statement"].as_array_mut().unwrap() {
            s["Resource"] = json!("arn:aws:s3:::mp-forwarding-*/*");
        }
    });
    for answer in [check(&right()).await, check(&wild).await] {
        assert_eq!(
            keys(&answer),
            ["bucket", "expected", "findings", "ok", "pod"]
        );
    }
    assert!(check(&wild).await["bucket"].is_null());
    let answer = check_iam("eu1", &iam("eu1").await).await;
    assert_eq!(keys(&answer), ["expected", "findings", "ok", "pod"]);
}

#[tokio::test]
async fn every_pods_rendered_policies_pass_their_own_check() {
    let app = spawn_app();
    for pod in ["us1", "us2", "eu1", "au1"] {
        for bucket in ["mp-forwarding-acme", "mp-forwarding-a.b-c"] {
            let rendered = app
                .post_bucket_policy(pod, &json!({ "bucket": bucket }).to_string())
                .await
                .json();
            for query in ["", "?bucket="] {
                let query = if query.is_empty() {
                    String::new()
                } else {
                    format!("{query}{bucket}")
                };
                let path = format!("/pods/{pod}/bucket-policy/check{query}");
                let answer = check_at(&path, &rendered).await;
                assert_eq!(found(&answer), Vec::<String>::new(), "{pod} {bucket}");
                assert_eq!(answer["expected"], rendered);
                assert_eq!(answer["bucket"], bucket);
            }
        }
        let rendered = app
            .get(&format!("/pods/{pod}/rules/iam-policy"))
            .await
            .json();
        let answer = check_iam(pod, &rendered).await;
        assert_eq!(found(&answer), Vec::<String>::new(), "{pod}");
        assert_eq!(answer["expected"], rendered);
    }
}

#[tokio::test]
async fn every_aws_spelling_of_a_right_policy_passes() {
    let spellings = [
        // One statement, both roles, each element a string where it may be.
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Principal": {"AWS": [EU1_A, EU1_B]}, "Action": ["S3:PUTOBJECT", "s3:putobjectacl"],
            "Resource": OBJECTS}}),
        // Principals as strings, a resource list, action names in any case, a Sid.
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "a", "Effect": "Allow", "Principal": {"AWS": EU1_A},
             "Action": ["s3:PutObject", "S3:PutObjectACL"], "Resource": [OBJECTS]},
            {"Sid": "b", "Effect": "Allow", "Principal": {"AWS": EU1_B},
             "Action": ["s3:PutObjectAcl", "s3:PutObject"], "Resource": [OBJECTS]}]}),
        // Each action in its own statement.
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": [EU1_A, EU1_B]}, "Action": "s3:PutObject",
             "Resource": OBJECTS},
            {"Effect": "Allow", "Principal": {"AWS": [EU1_B, EU1_A]}, "Action": "s3:PutObjectAcl",
             "Resource": OBJECTS}]}),
        // The customer's own statements, a Deny of plain HTTP, and a service principal.
        with(json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::mp-forwarding-acme", OBJECTS],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}})),
        with(
            json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "s3:*", "Resource": ["arn:aws:s3:::mp-forwarding-acme", OBJECTS]}),
        ),
        with(
            json!({"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject", "Resource": OBJECTS}),
        ),
        // The bucket and its objects side by side.
        edited(|p| {
            p["Statement"][0]["Resource"] = json!(["arn:aws:s3:::mp-forwarding-acme", OBJECTS])
        }),
    ];
    for policy in spellings {
        let answer = check(&policy).await;
        assert_eq!(found(&answer), Vec::<String>::new(), "{policy}");
        assert_eq!(answer["bucket"], "mp-forwarding-acme", "{policy}");
    }
    // A wildcard over the bucket's objects covers them; it names no one bucket.
    let wild = edited(|p| {
        for s in p["Statement"].as_array_mut().unwrap() {
            s["Resource"] = json!("arn:aws:s3:::mp-forwarding-*/*");
        }
    });
    let answer = check(&wild).await;
    assert_eq!(found(&answer), Vec::<String>::new());
    assert_eq!(answer["bucket"], Value::Null);
    assert_eq!(answer["expected"], Value::Null);
    let answer = check_at(
        "/pods/eu1/bucket-policy/check?bucket=mp-forwarding-acme",
        &wild,
    )
    .await;
    assert_eq!(found(&answer), Vec::<String>::new());
    assert_eq!(answer["expected"], right());
}

#[tokio::test]
async fn missing_principal_is_one_of_the_pods_roles_not_allowed() {
    let answer = check(&edited(|p| {
        p["Statement"].as_array_mut().unwrap().pop();
    }))
    .await;
    assert_eq!(found(&answer), ["missing-principal error -"]);
    assert!(detail(&answer, "missing-principal").starts_with(EU1_B));
    assert_eq!(found(&check(&right()).await), Vec::<String>::new());
}

#[tokio::test]
async fn foreign_principal_names_the_pod_it_belongs_to_and_the_right_arn() {
    // In place of the pod's own: an error, and the missing one is a second finding.
    let answer = check(&edited(|p| {
        p["Statement"][0]["Principal"]["AWS"][0] = json!(US1_A)
    }))
    .await;
    assert_eq!(
        found(&answer),
        [
            "foreign-principal error #/Statement/0/Principal/AWS/0",
            "missing-principal error -"
        ]
    );
    assert_eq!(
        detail(&answer, "foreign-principal"),
        format!("{US1_A} is US1's; this organisation is in EU1: use {EU1_A}")
    );
    // Beside the pod's own: a warning.
    let answer = check(&edited(|p| {
        p["Statement"][0]["Principal"]["AWS"] = json!([EU1_A, US1_A])
    }))
    .await;
    assert_eq!(
        found(&answer),
        ["foreign-principal warning #/Statement/0/Principal/AWS/1"]
    );
    assert_eq!(answer["ok"], true);
    // Another pod's account, in place of the roles.
    let answer = check(&edited(|p| {
        p["Statement"][1]["Principal"]["AWS"] = json!("338661164609")
    }))
    .await;
    assert!(
        found(&answer).contains(&"foreign-principal error #/Statement/1/Principal/AWS".to_owned())
    );
    assert_eq!(found(&check(&right()).await), Vec::<String>::new());
}

#[tokio::test]
async fn missing_action_is_put_object_or_its_acl_not_granted() {
    let answer = check(&edited(|p| {
        p["Statement"][1]["Action"] = json!("s3:PutObject")
    }))
    .await;
    assert_eq!(found(&answer), ["missing-action error -"]);
    let detail = detail(&answer, "missing-action");
    assert!(
        detail.contains(EU1_B)
            && detail.contains("Statement/1")
            && detail.contains("s3:PutObjectAcl"),
        "{detail}"
    );
    assert_eq!(found(&check(&right()).await), Vec::<String>::new());
}

#[tokio::test]
async fn wrong_resource_is_the_bucket_itself_another_bucket_or_not_s3() {
    let bare = check(&edited(|p| {
        p["Statement"][0]["Resource"] = json!("arn:aws:s3:::mp-forwarding-acme")
    }))
    .await;
    assert_eq!(
        found(&bare),
        ["wrong-resource error #/Statement/0/Resource"]
    );
    assert!(detail(&bare, "wrong-resource").ends_with(&format!("use {OBJECTS}.")));

    let other = check_at(
        "/pods/eu1/bucket-policy/check?bucket=mp-forwarding-other",
        &right(),
    )
    .await;
    assert_eq!(
        found(&other),
        [
            "wrong-resource error #/Statement/0/Resource",
            "wrong-resource error #/Statement/1/Resource"
        ]
    );
    assert_eq!(other["bucket"], "mp-forwarding-other");

    // Without ?bucket=, grants to two buckets: the first is the bucket.
    let two = check(&edited(|p| {
        p["Statement"][1]["Resource"] = json!("arn:aws:s3:::mp-forwarding-zeta/*")
    }))
    .await;
    assert_eq!(found(&two), ["wrong-resource error #/Statement/1/Resource"]);
    assert_eq!(two["bucket"], "mp-forwarding-acme");

    let not_s3 = check(&edited(|p| {
        p["Statement"][0]["Resource"] = json!("arn:aws:sqs:eu-central-1:1:q")
    }))
    .await;
    assert_eq!(
        found(&not_s3),
        ["wrong-resource error #/Statement/0/Resource"]
    );

    let right = check_at(
        "/pods/eu1/bucket-policy/check?bucket=mp-forwarding-acme",
        &right(),
    )
    .await;
    assert_eq!(found(&right), Vec::<String>::new());
}

#[tokio::test]
async fn placeholder_is_reported_alone_for_its_value() {
    let template = json!({"Version": "2012-10-17", "Statement": [
        {"Action": ["s3:PutObject", "s3:PutObjectAcl"], "Effect": "Allow",
         "Resource": "arn:aws:s3:::{bucket}/*", "Principal": {"AWS": ["{arn1}"]}},
        {"Action": ["s3:PutObject", "s3:PutObjectAcl"], "Effect": "Allow",
         "Resource": "arn:aws:s3:::{bucket}/*", "Principal": {"AWS": ["{arn2}"]}}]});
    let answer = check(&template).await;
    assert_eq!(
        found(&answer),
        [
            "placeholder error #/Statement/0/Resource",
            "placeholder error #/Statement/0/Principal/AWS/0",
            "placeholder error #/Statement/1/Resource",
            "placeholder error #/Statement/1/Principal/AWS/0",
            "missing-principal error -",
            "missing-principal error -",
        ]
    );
    assert_eq!(answer["bucket"], Value::Null);
    assert!(detail(&answer, "placeholder").contains("{bucket}"));
    let filled = found(
        &check(&edited(|p| {
            p["Statement"][0]["Principal"]["AWS"][0] = json!("{arn1}")
        }))
        .await,
    );
    assert_eq!(
        filled,
        [
            "placeholder error #/Statement/0/Principal/AWS/0",
            "missing-principal error -"
        ]
    );
    assert_eq!(found(&check(&right()).await), Vec::<String>::new());
}

#[tokio::test]
async fn bucket_name_is_a_bucket_that_breaks_the_naming_rules() {
    let answer = check(&edited(|p| {
        for s in p["Statement"].as_array_mut().unwrap() {
            s["Resource"] = json!("arn:aws:s3:::acme-logs/*");
        }
    }))
    .await;
    assert_eq!(found(&answer), ["bucket-name error #/Statement/0/Resource"]);
    assert_eq!(answer["bucket"], "acme-logs");
    assert_eq!(answer["expected"], Value::Null);
    assert!(detail(&answer, "bucket-name").contains("must begin with 'mp-forwarding-'"));
    assert_eq!(found(&check(&right()).await), Vec::<String>::new());
}

#[tokio::test]
async fn denied_is_a_deny_that_holds_for_mparticles_requests() {
    let deny = |condition: Value| {
        with(
            json!({"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": OBJECTS, "Condition": condition}),
        )
    };
    // mParticle's requests come from no VPC endpoint: this Deny stops them.
    let answer = check(&deny(
        json!({"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
    ))
    .await;
    assert_eq!(found(&answer), ["denied error #/Statement/2"]);
    // They come over TLS: the usual Deny of plain HTTP does not.
    let answer = check(&deny(json!({"Bool": {"aws:SecureTransport": "false"}}))).await;
    assert_eq!(found(&answer), Vec::<String>::new());
    // A Deny for all but the pod's roles leaves them out.
    let answer = check(&deny(json!({"ArnNotLike": {"aws:PrincipalArn": [
        "arn:aws:iam::583371261087:role/*", "arn:aws:iam::111122223333:role/*"]}})))
    .await;
    assert_eq!(found(&answer), Vec::<String>::new());
    // A Deny with no condition, of one role.
    let answer = check(&with(json!({"Effect": "Deny", "Principal": {"AWS": EU1_B},
        "Action": "s3:Put*", "Resource": "arn:aws:s3:::mp-forwarding-acme/*"})))
    .await;
    assert_eq!(found(&answer), ["denied error #/Statement/2"]);
    assert!(detail(&answer, "denied").contains(EU1_B));
}

#[tokio::test]
async fn conditional_deny_is_one_podmeta_cannot_decide() {
    let answer = check(&with(
        json!({"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": OBJECTS, "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}),
    ))
    .await;
    assert_eq!(
        found(&answer),
        ["conditional-deny warning #/Statement/2/Condition"]
    );
    assert_eq!(answer["ok"], true);
    assert!(detail(&answer, "conditional-deny").contains("aws:SourceIp"));
    // A key podmeta knows (the roles' ARNs), under an operator it does not evaluate.
    let answer = check(&with(
        json!({"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": OBJECTS, "Condition": {"BinaryNotEquals": {"aws:PrincipalArn": "cm9sZQ=="}}}),
    ))
    .await;
    assert_eq!(
        found(&answer),
        ["conditional-deny warning #/Statement/2/Condition"]
    );
    assert!(detail(&answer, "conditional-deny").contains("aws:PrincipalArn"));
    // The same Deny of reads only is not about mParticle.
    let answer = check(&with(
        json!({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
        "Resource": OBJECTS, "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}),
    ))
    .await;
    assert_eq!(found(&answer), Vec::<String>::new());
}

#[tokio::test]
async fn public_write_is_anyone_allowed_to_write() {
    let public =
        json!({"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": OBJECTS});
    let answer = check(&with(public.clone())).await;
    assert_eq!(
        found(&answer),
        ["public-write error #/Statement/2/Principal"]
    );
    let aws_star = json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:DeleteObject", "Resource": OBJECTS});
    assert_eq!(
        found(&check(&with(aws_star)).await),
        ["public-write error #/Statement/2/Principal/AWS"]
    );
    // Narrowed to one VPC endpoint, it is not public, as S3 judges it.
    let mut narrowed = public.clone();
    narrowed["Condition"] = json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}});
    assert_eq!(found(&check(&with(narrowed)).await), Vec::<String>::new());
    // Reading is not writing.
    let read =
        json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": OBJECTS});
    assert_eq!(found(&check(&with(read)).await), Vec::<String>::new());
}

#[tokio::test]
async fn account_principal_trusts_the_pods_account_rather_than_its_roles() {
    for account in ["583371261087", "arn:aws:iam::583371261087:root"] {
        let answer = check(&edited(|p| {
            p["Statement"].as_array_mut().unwrap().pop();
            p["Statement"][0]["Principal"]["AWS"] = json!(account);
        }))
        .await;
        assert_eq!(
            found(&answer),
            ["account-principal warning #/Statement/0/Principal/AWS"]
        );
        assert_eq!(answer["ok"], true);
    }
    assert_eq!(found(&check(&right()).await), Vec::<String>::new());
}

#[tokio::test]
async fn broad_action_is_a_wildcard_where_two_actions_are_needed() {
    for (action, pointer) in [
        (json!("s3:*"), "#/Statement/0/Action"),
        (json!(["s3:Put*"]), "#/Statement/0/Action/0"),
        (json!("*"), "#/Statement/0/Action"),
    ] {
        let answer = check(&edited(|p| p["Statement"][0]["Action"] = action.clone())).await;
        assert_eq!(
            found(&answer),
            [format!("broad-action warning {pointer}")],
            "{action}"
        );
    }
    let not_action = check(&edited(|p| {
        let s = p["Statement"][0].as_object_mut().unwrap();
        s.remove("Action");
        s.insert("NotAction".into(), json!("s3:DeleteObject"));
    }))
    .await;
    assert_eq!(
        found(&not_action),
        ["broad-action warning #/Statement/0/NotAction"]
    );
    assert_eq!(found(&check(&right()).await), Vec::<String>::new());
}

#[tokio::test]
async fn condition_is_a_grant_that_a_condition_may_block() {
    let answer = check(&edited(|p| {
        p["Statement"][0]["Condition"] =
            json!({"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}});
    }))
    .await;
    assert_eq!(
        found(&answer),
        ["condition warning #/Statement/0/Condition"]
    );
    // A condition that mParticle's requests cannot meet blocks the grant.
    let answer = check(&edited(|p| {
        p["Statement"][0]["Condition"] = json!({"StringEquals": {"aws:SourceVpce": "vpce-1"}});
    }))
    .await;
    assert_eq!(found(&answer), ["condition error #/Statement/0/Condition"]);
    // One that they meet is no finding.
    let answer = check(&edited(|p| {
        p["Statement"][0]["Condition"] = json!({"Bool": {"aws:SecureTransport": "true"}});
    }))
    .await;
    assert_eq!(found(&answer), Vec::<String>::new());
}

#[tokio::test]
async fn version_is_missing_or_the_old_one() {
    let answer = check(&edited(|p| {
        p.as_object_mut().unwrap().remove("Version");
    }))
    .await;
    assert_eq!(found(&answer), ["version warning -"]);
    let answer = check(&edited(|p| p["Version"] = json!("2008-10-17"))).await;
    assert_eq!(found(&answer), ["version warning #/Version"]);
    let answer = check(&edited(|p| p["Version"] = json!("2012-10-18"))).await;
    assert_eq!(found(&answer), ["version error #/Version"]);
    assert_eq!(found(&check(&right()).await), Vec::<String>::new());
}

/// EU1's Rules IAM policy, as podmeta renders it.
async fn iam(pod: &str) -> Value {
    spawn_app()
        .get(&format!("/pods/{pod}/rules/iam-policy"))
        .await
        .json()
}

#[tokio::test]
async fn wrong_region_names_the_pods_that_use_it() {
    let answer = check_iam("eu1", &iam("us1").await).await;
    assert_eq!(
        found(&answer),
        [
            "wrong-region error #/Statement/0/Resource/0",
            "wrong-region error #/Statement/2/Resource/0"
        ]
    );
    assert_eq!(
        detail(&answer, "wrong-region"),
        "us-east-1 is US1's and US2's region; this organisation is in EU1 (eu-central-1): use \
         arn:aws:logs:eu-central-1:*:log-group:/aws/lambda/mpr*"
    );
    let mut nobody = iam("eu1").await;
    nobody["Statement"][2]["Resource"][0] = json!("arn:aws:lambda:eu-west-3:*:function:mpr*");
    let answer = check_iam("eu1", &nobody).await;
    assert_eq!(
        found(&answer),
        ["wrong-region error #/Statement/2/Resource/0"]
    );
    assert!(detail(&answer, "wrong-region").starts_with("eu-west-3 is no pod's region"));
    assert_eq!(
        found(&check_iam("eu1", &iam("eu1").await).await),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn iam_missing_action_is_an_action_no_statement_allows() {
    let mut policy = iam("eu1").await;
    policy["Statement"][2]["Action"] = json!(["lambda:InvokeFunction"]);
    let answer = check_iam("eu1", &policy).await;
    assert_eq!(found(&answer), ["missing-action error -"]);
    assert!(detail(&answer, "missing-action").starts_with("lambda:GetAlias is not allowed"));
}

#[tokio::test]
async fn iam_wrong_resource_is_not_the_mpr_functions_or_another_service() {
    let mut policy = iam("eu1").await;
    policy["Statement"][2]["Resource"] = json!("arn:aws:lambda:eu-central-1:*:function:myrule*");
    assert_eq!(
        found(&check_iam("eu1", &policy).await),
        ["wrong-resource error #/Statement/2/Resource"]
    );
    policy["Statement"][2]["Resource"] = json!(["arn:aws:s3:::mp-forwarding-acme/*"]);
    assert_eq!(
        found(&check_iam("eu1", &policy).await),
        ["wrong-resource error #/Statement/2/Resource/0"]
    );
    // CloudWatch's action takes "*" alone.
    let mut metrics = iam("eu1").await;
    metrics["Statement"][1]["Resource"] =
        json!("arn:aws:cloudwatch:eu-central-1:123456789012:alarm:*");
    let answer = check_iam("eu1", &metrics).await;
    assert_eq!(
        found(&answer),
        ["wrong-resource error #/Statement/1/Resource"]
    );
    assert!(
        detail(&answer, "wrong-resource")
            .starts_with("cloudwatch:GetMetricStatistics takes no resource")
    );
    // One function of the prefix, in the customer's own account, is a grant.
    policy["Statement"][2]["Resource"] =
        json!("arn:aws:lambda:eu-central-1:123456789012:function:mprmyrule");
    assert_eq!(
        found(&check_iam("eu1", &policy).await),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn iam_denied_conditional_deny_broad_action_and_version() {
    let mut policy = iam("eu1").await;
    policy["Statement"]
        .as_array_mut()
        .unwrap()
        .push(json!({"Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": "*"}));
    assert_eq!(
        found(&check_iam("eu1", &policy).await),
        ["denied error #/Statement/3"]
    );

    // The Rules IAM user's ARN is not known: a Deny for all but some ARNs may stop it.
    let mut policy = iam("eu1").await;
    policy["Statement"]
        .as_array_mut()
        .unwrap()
        .push(json!({"Effect": "Deny",
        "Action": "lambda:InvokeFunction", "Resource": "*",
        "Condition": {"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/ops-*"}}}));
    let answer = check_iam("eu1", &policy).await;
    assert_eq!(
        found(&answer),
        ["conditional-deny warning #/Statement/3/Condition"]
    );
    assert!(detail(&answer, "conditional-deny").contains("aws:PrincipalArn"));
    // It comes over TLS: the usual Deny of plain HTTP does not stop it.
    policy["Statement"][3]["Condition"] = json!({"Bool": {"aws:SecureTransport": "false"}});
    assert_eq!(
        found(&check_iam("eu1", &policy).await),
        Vec::<String>::new()
    );

    let mut policy = iam("eu1").await;
    policy["Statement"][2]["Action"] = json!("lambda:*");
    assert_eq!(
        found(&check_iam("eu1", &policy).await),
        ["broad-action warning #/Statement/2/Action"]
    );

    let mut policy = iam("eu1").await;
    policy.as_object_mut().unwrap().remove("Version");
    assert_eq!(
        found(&check_iam("eu1", &policy).await),
        ["version warning -"]
    );
}

#[tokio::test]
async fn what_is_not_a_policy_is_a_problem_and_answers_are_never_stored() {
    let app = spawn_app();
    for path in [
        "/pods/eu1/bucket-policy/check",
        "/pods/eu1/rules/iam-policy/check",
    ] {
        let response = post(&app, path, &right()).await;
        assert_eq!(response.headers["cache-control"], "no-store");
        app.post(path, Some("application/json"), "{\"Statement\": ")
            .await
            .problem(400);
        app.post(
            path,
            Some("application/json"),
            r#"{"Statement": [], "Statement": []}"#,
        )
        .await
        .problem(400);
        app.post(path, Some("text/plain"), right().to_string())
            .await
            .problem(415);
        for not_a_policy in [
            json!({}),
            json!([right()]),
            json!({"Statement": [{"Effect": "Allow"}]}),
        ] {
            let problem = post(&app, path, &not_a_policy).await.problem(422);
            assert!(
                !problem["errors"].as_array().unwrap().is_empty(),
                "{problem}"
            );
        }
        let missing = path.replace("eu1", "eu9");
        post(&app, &missing, &right()).await.problem(404);
    }
    let problem = post(
        &app,
        "/pods/eu1/bucket-policy/check",
        &json!({"Statement": {"Effect": "Maybe",
        "Action": "s3:PutObject", "Resource": OBJECTS}}),
    )
    .await
    .problem(422);
    assert_eq!(problem["errors"][0]["pointer"], "#/Statement/Effect");
}

#[tokio::test]
async fn an_invalid_bucket_query_is_the_422_of_the_bucket_policy_post() {
    let app = spawn_app();
    let checked = post(
        &app,
        "/pods/eu1/bucket-policy/check?bucket=Acme..Logs",
        &right(),
    )
    .await
    .problem(422);
    let rendered = app
        .post_bucket_policy("eu1", r#"{"bucket": "Acme..Logs"}"#)
        .await
        .problem(422);
    assert_eq!(checked["detail"], rendered["detail"]);
    assert_eq!(
        TestResponse::rules(&checked),
        TestResponse::rules(&rendered)
    );
    for error in checked["errors"].as_array().unwrap() {
        assert_eq!(error["parameter"], "bucket", "{error}");
    }
    let twice = post(
        &app,
        "/pods/eu1/bucket-policy/check?bucket=mp-forwarding-a&bucket=mp-forwarding-b",
        &right(),
    )
    .await
    .problem(422);
    assert_eq!(TestResponse::rules(&twice), ["once"]);
}
