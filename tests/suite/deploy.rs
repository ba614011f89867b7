//! The Kubernetes manifests agree with the binary: the probes ask routes it serves, the
//! port is the one it listens on, the config path is where the ConfigMap is mounted, and
//! the ConfigMap's table is the repository's, valid.

use serde_json::Value;

fn manifest(name: &str) -> Value {
    crate::common::yaml_file(&format!("deploy/kubernetes/{name}"))
}

fn container() -> Value {
    manifest("deployment.yaml")["spec"]["template"]["spec"]["containers"][0].clone()
}

#[test]
fn the_probes_ask_routes_the_binary_serves() {
    let container = container();
    let routes: Vec<&str> = podmeta::ROUTES.iter().map(|r| r.path).collect();
    let admin: Vec<&str> = podmeta::ROUTES
        .iter()
        .filter(|r| r.admin)
        .map(|r| r.path)
        .collect();
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    for probe in ["livenessProbe", "readinessProbe"] {
        let path = container[probe]["httpGet"]["path"].as_str().unwrap();
        assert!(
            routes.contains(&path),
            "{probe} asks {path}, which podmeta does not serve"
        );
        assert!(
            admin.contains(&path),
            "{probe} asks {path}, which the admin listener does not serve"
        );
        // On the admin port: a flood of the main port must not fail the probes.
        assert_eq!(container[probe]["httpGet"]["port"], "admin");
    }
}

fn env(name: &str) -> String {
    container()["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in the Deployment"))["value"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_admin_port_is_the_one_podmeta_binds_for_probes_and_scrapes() {
    let container = container();
    let admin: std::net::SocketAddr = env("PODMETA_ADMIN_BIND").parse().unwrap();
    assert!(
        admin.ip().is_unspecified(),
        "the kubelet probes from outside"
    );
    let port = container["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "admin")
        .expect("a port named admin");
    assert_eq!(port["containerPort"], i64::from(admin.port()));
    let annotations = &manifest("deployment.yaml")["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/port"], admin.port().to_string());
}

/// The value the Deployment passes with `flag`.
fn arg(flag: &str) -> String {
    let args = container()["args"].as_array().unwrap().clone();
    let at = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("{flag} is not passed"));
    args[at + 1].as_str().unwrap().to_owned()
}

/// `320Mi` and the like, in bytes.
fn quantity_bytes(quantity: &str) -> u64 {
    let (number, unit) = quantity.split_at(quantity.find(|c: char| !c.is_ascii_digit()).unwrap());
    let scale = match unit {
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        other => panic!("unexpected unit {other:?} in {quantity:?}"),
    };
    number.parse::<u64>().unwrap() * scale
}

#[test]
fn the_memory_limit_holds_the_connection_cap_with_headroom() {
    let container = container();
    let cap: usize = arg("--max-connections").parse().unwrap();
    let resources = &container["resources"];
    let limit = quantity_bytes(resources["limits"]["memory"].as_str().unwrap());
    assert_eq!(
        resources["requests"]["memory"], resources["limits"]["memory"],
        "memory is reserved, not overcommitted"
    );
    // The same sum podmeta does at start-up: it must not lower the Deployment's cap.
    let fit = podmeta::capacity::fit(
        cap,
        podmeta::capacity::ADMIN_MAX_CONNECTIONS,
        None,
        Some(limit),
    );
    assert_eq!(fit.max_connections, cap, "{fit:?}");
    // And not oversized: at most half again what the cap needs.
    let needed = podmeta::capacity::BASE_BYTES
        + (cap + podmeta::capacity::ADMIN_MAX_CONNECTIONS) as u64
            * podmeta::capacity::CONNECTION_BYTES;
    assert!(limit <= needed * 3 / 2, "{limit} bytes for {needed} needed");
}

#[test]
fn the_port_is_the_one_podmeta_binds() {
    let container = container();
    let port = &container["ports"][0];
    assert_eq!(port["name"], "http");
    let bind: std::net::SocketAddr = env("PODMETA_BIND").parse().unwrap();
    assert!(
        bind.ip().is_unspecified(),
        "a pod must listen beyond loopback"
    );
    assert_eq!(port["containerPort"], i64::from(bind.port()));
    let service = manifest("service.yaml");
    assert_eq!(service["spec"]["ports"][0]["targetPort"], "http");
}

#[test]
fn the_config_path_is_the_mounted_configmaps_file() {
    let deployment = manifest("deployment.yaml");
    let container = container();
    let config = arg("--config");
    let config = std::path::Path::new(&config);
    let mount = &container["volumeMounts"][0];
    assert_eq!(
        config.parent().unwrap().to_str().unwrap(),
        mount["mountPath"]
    );
    assert!(
        mount.get("subPath").is_none(),
        "a subPath mount is never updated in place"
    );
    let volume = &deployment["spec"]["template"]["spec"]["volumes"][0];
    assert_eq!(volume["name"], mount["name"]);
    let configmap = manifest("configmap.yaml");
    assert_eq!(volume["configMap"]["name"], configmap["metadata"]["name"]);
    let key = config.file_name().unwrap().to_str().unwrap();
    assert!(
        configmap["data"].get(key).is_some(),
        "the ConfigMap has no {key}"
    );
}

#[test]
fn the_configmaps_table_is_the_repositorys_and_valid() {
    let configmap = manifest("configmap.yaml");
    let table = configmap["data"]["pods.toml"].as_str().unwrap();
    assert_eq!(
        table,
        podmeta::BUILTIN_TOML,
        "deploy/kubernetes/configmap.yaml is stale"
    );
    podmeta::Table::from_toml("configmap.yaml", table).unwrap();
}

#[test]
fn the_pods_run_locked_down() {
    let deployment = manifest("deployment.yaml");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(deployment["spec"]["replicas"], 3);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let security = &container()["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    let resources = &container()["resources"];
    for kind in ["requests", "limits"] {
        for what in ["cpu", "memory"] {
            assert!(resources[kind][what].is_string(), "no {kind}.{what}");
        }
    }
    assert_eq!(manifest("pdb.yaml")["kind"], "PodDisruptionBudget");
    assert_eq!(
        manifest("hpa.yaml")["spec"]["scaleTargetRef"]["name"],
        deployment["metadata"]["name"]
    );
}

#[test]
fn the_grace_period_covers_the_shutdown_delay_and_the_drain() {
    let spec = &manifest("deployment.yaml")["spec"]["template"]["spec"];
    let grace = spec["terminationGracePeriodSeconds"].as_u64().unwrap();
    let delay: std::time::Duration = env("PODMETA_SHUTDOWN_DELAY")
        .parse::<humantime::Duration>()
        .unwrap()
        .into();
    assert!(
        delay.as_secs() >= 1,
        "too short for any endpoint change to propagate"
    );
    let drain = podmeta::ServerSettings::default().shutdown_timeout;
    assert!(
        (delay + drain).as_secs() < grace,
        "{delay:?} + {drain:?} does not fit in {grace} s"
    );
}

/// Runs `scripts/fixtures-current.sh` with `PODMETA_SHARED` set to `shared`.
fn fixtures_check(shared: &std::path::Path) -> (bool, String) {
    let out = std::process::Command::new("bash")
        .arg("scripts/fixtures-current.sh")
        .env("PODMETA_SHARED", shared)
        .output()
        .expect("bash runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn ci_compares_the_fixtures_with_the_reference_copies_only_where_they_are() {
    let dir = std::env::temp_dir().join(format!("podmeta-shared-{}", std::process::id()));
    let (passed, said) = fixtures_check(&dir.join("absent"));
    assert!(passed && said.starts_with("SKIPPED: no "), "{said}");

    for sub in ["seed", "reference"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let copy = |from: &str, to: &str| std::fs::copy(format!("tests/fixtures/{from}"), dir.join(to));
    copy(
        "data-hosting-locations.md",
        "seed/data-hosting-locations.md",
    )
    .unwrap();
    copy("mparticle-facts.md", "reference/mparticle-facts.md").unwrap();
    let (passed, said) = fixtures_check(&dir);
    assert!(passed, "{said}");

    std::fs::write(dir.join("reference/mparticle-facts.md"), "updated").unwrap();
    let (passed, said) = fixtures_check(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        !passed && said.contains("mparticle-facts.md differs"),
        "{said}"
    );
}

#[test]
fn every_base_image_of_the_dockerfile_is_named_in_full() {
    // podman, buildah and CRI-O resolve no short name without a configured registry.
    let dockerfile = std::fs::read_to_string("Dockerfile").unwrap();
    let images: Vec<&str> = dockerfile
        .lines()
        .filter_map(|line| line.strip_prefix("FROM "))
        .map(|rest| rest.split_whitespace().next().unwrap())
        .collect();
    assert!(!images.is_empty());
    for image in images {
        let first = image.split('/').next().unwrap();
        assert!(
            image == "scratch" || (image.contains('/') && first.contains('.')),
            "FROM {image}: name the registry (docker.io/library/…)"
        );
    }
}

#[test]
fn the_replicas_spread_over_nodes() {
    let deployment = manifest("deployment.yaml");
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        .as_array()
        .expect("topologySpreadConstraints");
    let by_node = spread
        .iter()
        .find(|c| c["topologyKey"] == "kubernetes.io/hostname")
        .expect("a spread over nodes");
    assert_eq!(by_node["whenUnsatisfiable"], "DoNotSchedule");
    assert_eq!(by_node["maxSkew"], 1);
    for constraint in spread {
        assert_eq!(&constraint["labelSelector"]["matchLabels"], labels);
    }
}

#[test]
fn the_admin_port_is_reachable_only_from_monitoring_and_the_main_port_from_the_cluster() {
    let policy = manifest("networkpolicy.yaml");
    let deployment = manifest("deployment.yaml");
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert_eq!(&policy["spec"]["podSelector"]["matchLabels"], labels);
    let ingress = policy["spec"]["ingress"].as_array().unwrap();
    let rule = |port: &str| {
        ingress
            .iter()
            .find(|r| {
                r["ports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["port"] == port)
            })
            .unwrap_or_else(|| panic!("no rule for port {port}"))
    };
    // Every port the policy names is one the container names.
    let names: Vec<Value> = container()["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    for r in ingress {
        for port in r["ports"].as_array().unwrap() {
            assert!(names.contains(&port["port"]), "{port}");
        }
    }
    assert_eq!(
        rule("http")["from"][0]["namespaceSelector"],
        serde_json::json!({})
    );
    let monitoring = &rule("admin")["from"][0]["namespaceSelector"]["matchLabels"];
    assert_eq!(monitoring["podmeta.io/monitoring"], "true");
    assert_eq!(rule("admin")["from"].as_array().unwrap().len(), 1);
}

#[test]
fn the_pod_monitor_scrapes_the_admin_port_and_sits_apart_from_the_plain_manifests() {
    let monitor = manifest("prometheus-operator/podmonitor.yaml");
    assert_eq!(monitor["kind"], "PodMonitor");
    let deployment = manifest("deployment.yaml");
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert_eq!(&monitor["spec"]["selector"]["matchLabels"], labels);
    let endpoint = &monitor["spec"]["podMetricsEndpoints"][0];
    assert_eq!(endpoint["port"], "admin");
    assert!(
        podmeta::ROUTES
            .iter()
            .any(|r| r.admin && endpoint["path"] == r.path)
    );
    // `kubectl apply -f deploy/kubernetes/` must work without the operator's CRDs.
    for entry in std::fs::read_dir("deploy/kubernetes").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains("monitoring.coreos.com"),
                "{}",
                path.display()
            );
        }
    }
}
