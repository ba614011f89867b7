//! Reload without restart: a valid edit is swapped in whole, an invalid one is refused and
//! counted while the old table keeps serving; an editor's atomic rename and a Kubernetes
//! ConfigMap's symlink swap are both seen.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::TestApp;
use podmeta::BUILTIN_TOML;
use podmeta::internals::{Reloaded, reload};
use podmeta::{AppState, Catalog, Table};

/// A temporary directory holding a copy of the built-in table, removed when dropped.
fn table_in_temp_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pods.toml");
    std::fs::write(&path, BUILTIN_TOML).unwrap();
    (dir, path)
}

/// An app serving `path`, with the watcher running.
fn watched_app(path: &Path) -> TestApp {
    let state = AppState::new(Catalog::new(Table::from_path(path).unwrap()));
    podmeta::watch_table(state.clone(), path.to_owned());
    TestApp { state }
}

async fn location(app: &TestApp) -> String {
    app.get("/pods/eu1").await.json()["location"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Polls until the served EU1 location is `want`, for at most five seconds.
async fn wait_for_location(app: &TestApp, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while location(app).await != want {
        assert!(
            Instant::now() < deadline,
            "still {:?}, not {want:?}",
            location(app).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn reload_count(app: &TestApp, result: &str) -> u64 {
    let prefix = format!("podmeta_table_reloads_total{{result=\"{result}\"}} ");
    crate::common::metric_value(app.get("/metrics").await.text(), &prefix) as u64
}

/// Lets the watcher start before the test changes anything.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_valid_edit_is_served_without_a_restart() {
    let (_dir, path) = table_in_temp_dir();
    let app = watched_app(&path);
    settle().await;
    assert_eq!(location(&app).await, "Europe");

    std::fs::write(&path, BUILTIN_TOML.replace("\"Europe\"", "\"Europa\"")).unwrap();
    wait_for_location(&app, "Europa").await;
    assert_eq!(reload_count(&app, "success").await, 1);
    let index = app.get("/").await.json();
    assert_eq!(index["table"]["source"], path.display().to_string());
}

#[tokio::test]
async fn an_invalid_edit_is_refused_counted_and_the_old_table_kept() {
    let (_dir, path) = table_in_temp_dir();
    let app = watched_app(&path);
    settle().await;
    let before = app.get("/pods/eu1").await.text().to_owned();

    std::fs::write(
        &path,
        BUILTIN_TOML
            .replace("\"Europe\"", "\"Europa\"")
            .replace("port = 4422", "port = 0"),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while reload_count(&app, "failure").await == 0 {
        assert!(Instant::now() < deadline, "the broken file was never read");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.get("/pods/eu1").await.text(),
        before,
        "half a table, or the bad one"
    );
    assert_eq!(reload_count(&app, "success").await, 0);

    // Fixing the file brings the edit in.
    std::fs::write(&path, BUILTIN_TOML.replace("\"Europe\"", "\"Europa\"")).unwrap();
    wait_for_location(&app, "Europa").await;
}

#[tokio::test]
async fn an_atomic_rename_is_seen() {
    let (tmp, path) = table_in_temp_dir();
    let dir = tmp.path();
    let app = watched_app(&path);
    settle().await;

    let staged = dir.join(".pods.toml.swp");
    std::fs::write(&staged, BUILTIN_TOML.replace("\"Europe\"", "\"Europa\"")).unwrap();
    std::fs::rename(&staged, &path).unwrap();
    wait_for_location(&app, "Europa").await;
}

#[cfg(unix)]
#[tokio::test]
async fn a_configmap_symlink_swap_is_seen() {
    use std::os::unix::fs::symlink;
    // Kubernetes mounts a ConfigMap as: pods.toml -> ..data/pods.toml, ..data -> ..<ts>/,
    // and updates it by pointing a new ..data_tmp at a new ..<ts> and renaming it over ..data.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let first = dir.join("..2026_01_01");
    std::fs::create_dir_all(&first).unwrap();
    std::fs::write(first.join("pods.toml"), BUILTIN_TOML).unwrap();
    symlink("..2026_01_01", dir.join("..data")).unwrap();
    symlink("..data/pods.toml", dir.join("pods.toml")).unwrap();
    let app = watched_app(&dir.join("pods.toml"));
    settle().await;

    let second = dir.join("..2026_01_02");
    std::fs::create_dir_all(&second).unwrap();
    std::fs::write(
        second.join("pods.toml"),
        BUILTIN_TOML.replace("\"Europe\"", "\"Europa\""),
    )
    .unwrap();
    symlink("..2026_01_02", dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    wait_for_location(&app, "Europa").await;
}

#[tokio::test]
async fn a_reload_swaps_the_whole_table_and_requests_keep_the_one_they_began_with() {
    let (_dir, path) = table_in_temp_dir();
    let state = AppState::new(Catalog::new(Table::from_path(&path).unwrap()));
    let held = state.catalog();

    std::fs::write(&path, BUILTIN_TOML.replace("\"Europe\"", "\"Europa\"")).unwrap();
    assert!(matches!(
        reload(&state, &path, false),
        Reloaded::Swapped { .. }
    ));
    assert!(matches!(reload(&state, &path, false), Reloaded::Unchanged));
    assert!(matches!(
        reload(&state, &path, true),
        Reloaded::Swapped { .. }
    ));
    std::fs::write(&path, "not toml").unwrap();
    assert!(matches!(reload(&state, &path, false), Reloaded::Refused(_)));

    // The catalog a request took before the swap is untouched.
    assert_eq!(held.table().pod("eu1").unwrap().location.as_str(), "Europe");
    assert_eq!(
        state
            .catalog()
            .table()
            .pod("eu1")
            .unwrap()
            .location
            .as_str(),
        "Europa"
    );
}

#[tokio::test]
async fn an_edit_of_a_symlinked_tables_target_in_another_directory_is_seen() {
    use std::os::unix::fs::symlink;
    let (_elsewhere, target) = table_in_temp_dir();
    let here = tempfile::tempdir().unwrap();
    let link = here.path().join("pods.toml");
    symlink(&target, &link).unwrap();
    let app = watched_app(&link);
    settle().await;
    std::fs::write(&target, BUILTIN_TOML.replace("\"Europe\"", "\"Europa\"")).unwrap();
    wait_for_location(&app, "Europa").await;
    // The link pointed at another file in a third directory: that one is followed now.
    let (_third, moved) = table_in_temp_dir();
    std::fs::write(&moved, BUILTIN_TOML.replace("\"Europe\"", "\"Eurozone\"")).unwrap();
    std::fs::remove_file(&link).unwrap();
    symlink(&moved, &link).unwrap();
    wait_for_location(&app, "Eurozone").await;
    std::fs::write(
        &moved,
        BUILTIN_TOML.replace("\"Europe\"", "\"Europe (EU1)\""),
    )
    .unwrap();
    wait_for_location(&app, "Europe (EU1)").await;
}
