//! Reloading the table without a restart: on SIGHUP, and whenever its directory changes.
//!
//! The directory is watched, not the file, so that an editor's save-by-rename and a
//! Kubernetes ConfigMap's symlink swap (`..data` → a new timestamped directory) are both
//! seen; so is the directory the path resolves into, when a symlink leads elsewhere,
//! resolved again after every change. A reload loads and validates the whole file; only a valid table is swapped in,
//! whole, and requests in flight finish on the table they started with. A bad file is
//! logged with its line and counted, and the old table keeps serving.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::catalog::Catalog;
use crate::http::state::AppState;
use crate::table::{LoadError, Table};

/// What one reload did.
#[derive(Debug)]
pub enum Reloaded {
    /// A new table is in force.
    Swapped { version: String },
    /// The file has the version already in force; nothing changed.
    Unchanged,
    /// The file is invalid; the old table is still in force.
    Refused(LoadError),
}

/// Loads `path` and, if it is valid and differs from the table in force, swaps it in.
/// `force` swaps in even an identical table (an operator's SIGHUP asks for a reload).
pub fn reload(state: &AppState, path: &Path, force: bool) -> Reloaded {
    apply(state, path, load(state, path, force))
}

/// What reading a table file gave: the blocking part of a reload.
enum Loaded {
    Same,
    New(Box<Catalog>),
    Bad(LoadError),
}

/// Reads, validates and renders `path`: blocking work, done off the runtime.
fn load(state: &AppState, path: &Path, force: bool) -> Loaded {
    match Table::from_path(path) {
        Ok(table) if !force && table.version() == state.catalog().table().version() => Loaded::Same,
        Ok(table) => Loaded::New(Box::new(Catalog::new(table))),
        Err(e) => Loaded::Bad(e),
    }
}

/// Swaps a loaded table in, or says why not; counts and logs either.
fn apply(state: &AppState, path: &Path, loaded: Loaded) -> Reloaded {
    match loaded {
        Loaded::Same => Reloaded::Unchanged,
        Loaded::New(catalog) => {
            let version = catalog.table().version().to_owned();
            let pods = catalog.table().pods().len();
            state.replace(*catalog);
            state.metrics().reload_succeeded();
            tracing::info!(%version, pods, path = %path.display(), "table reloaded");
            Reloaded::Swapped { version }
        }
        Loaded::Bad(e) => {
            state.metrics().reload_failed();
            tracing::error!(
                path = %path.display(),
                error = %e,
                "table reload refused; still serving the previous table"
            );
            Reloaded::Refused(e)
        }
    }
}

/// Why a reload was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Signal,
    FileChanged,
}

/// A reload that has not read and validated its file by then has failed.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(5);

/// Editors and ConfigMap updates change a directory in bursts; one reload per burst.
const SETTLE: Duration = Duration::from_millis(100);

/// Reloads `path` on SIGHUP and when its directory changes, until the returned task is
/// aborted. The SIGHUP handler and the watch are in place when this returns, so a
/// signal or a change right after start-up is seen (and a SIGHUP never ends the process).
pub fn watch(state: AppState, path: PathBuf) -> tokio::task::JoinHandle<()> {
    let (tx, rx) = mpsc::channel::<Trigger>(64);
    let mut watched = Watched {
        watcher: watch_directory(&path, tx.clone()),
        target: None,
    };
    watched.follow_target(&path);
    on_sighup(Some(tx));
    tokio::spawn(reload_on_trigger(state, path, rx, watched))
}

/// The watch of the table's directory, and of the directory its path resolves into when
/// that is another (a symlink to `/elsewhere/A.toml`: an edit of A.toml happens there).
struct Watched {
    watcher: Option<notify::RecommendedWatcher>,
    /// The other directory watched, if any.
    target: Option<PathBuf>,
}

impl Watched {
    /// Watches the directory `path` now resolves into, if it is not the path's own, in
    /// place of the one watched before: the link and its target may both be replaced.
    fn follow_target(&mut self, path: &Path) {
        let Some(watcher) = self.watcher.as_mut() else {
            return;
        };
        let resolved_dir = |p: &Path| {
            std::fs::canonicalize(p)
                .ok()?
                .parent()
                .map(Path::to_path_buf)
        };
        let own = std::fs::canonicalize(own_directory(path)).ok();
        let target = resolved_dir(path).filter(|dir| Some(dir) != own.as_ref());
        if target == self.target {
            return;
        }
        if let Some(old) = self.target.take() {
            // Gone already, perhaps: a ConfigMap's old directory is removed.
            let _ = watcher.unwatch(&old);
        }
        if let Some(dir) = target {
            match watcher.watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    tracing::info!(directory = %dir.display(), "watching the directory the table's path resolves into");
                    self.target = Some(dir);
                }
                Err(e) => tracing::warn!(
                    directory = %dir.display(),
                    error = %e,
                    "cannot watch the directory the table's path resolves into; reload with SIGHUP"
                ),
            }
        }
    }
}

async fn reload_on_trigger(
    state: AppState,
    path: PathBuf,
    mut rx: mpsc::Receiver<Trigger>,
    // The watches live as long as this task: dropping them stops the watching.
    mut watched: Watched,
) {
    while let Some(first) = rx.recv().await {
        watched.follow_target(&path);
        tokio::time::sleep(SETTLE).await;
        let mut force = first == Trigger::Signal;
        while let Ok(more) = rx.try_recv() {
            force |= more == Trigger::Signal;
        }
        // Reading and parsing are blocking work: off the runtime, and bounded, since a
        // filesystem can hang a read. A load that does not finish in time is a failed
        // reload; its late result is dropped, never swapped in.
        let loading = tokio::task::spawn_blocking({
            let (state, path) = (state.clone(), path.clone());
            move || load(&state, &path, force)
        });
        match tokio::time::timeout(RELOAD_TIMEOUT, loading).await {
            Ok(Ok(loaded)) => {
                apply(&state, &path, loaded);
            }
            Ok(Err(e)) => {
                state.metrics().reload_failed();
                tracing::error!(path = %path.display(), error = %e, "table reload failed; still serving the previous table");
            }
            Err(_) => {
                state.metrics().reload_failed();
                tracing::error!(
                    path = %path.display(),
                    timeout_s = RELOAD_TIMEOUT.as_secs_f64(),
                    "table reload did not finish in time; still serving the previous table"
                );
            }
        }
    }
}

/// The directory a table path names, `.` for a bare file name.
fn own_directory(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn watch_directory(path: &Path, tx: mpsc::Sender<Trigger>) -> Option<notify::RecommendedWatcher> {
    let dir = own_directory(path);
    let handler = move |event: notify::Result<notify::Event>| {
        // Our own reads of the file are access events; only changes count.
        if let Ok(event) = event
            && matches!(
                event.kind,
                EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) | EventKind::Any
            )
        {
            // A full channel already holds a trigger; this one can go.
            let _ = tx.try_send(Trigger::FileChanged);
        }
    };
    let watcher = notify::recommended_watcher(handler).and_then(|mut w| {
        w.watch(&dir, RecursiveMode::NonRecursive)?;
        Ok(w)
    });
    match watcher {
        Ok(w) => {
            tracing::info!(directory = %dir.display(), "watching the table's directory for changes");
            Some(w)
        }
        Err(e) => {
            tracing::warn!(
                directory = %dir.display(),
                error = %e,
                "cannot watch the table's directory; reload with SIGHUP"
            );
            None
        }
    }
}

/// With the compiled-in table there is no file to reload, but SIGHUP must still not end
/// the process (its default action): configuration tools send it by habit.
pub fn ignore_sighup_for_the_builtin_table() {
    on_sighup(None);
}

/// Installs the one SIGHUP handler now, so that a signal right after start-up is caught:
/// each is a reload trigger, or with no table file (`None`) only logged.
fn on_sighup(reload: Option<mpsc::Sender<Trigger>>) {
    #[cfg(unix)]
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(mut hup) => {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    let Some(tx) = &reload else {
                        tracing::info!(
                            "SIGHUP received: the table is the compiled-in one, nothing to reload"
                        );
                        continue;
                    };
                    tracing::info!("SIGHUP received: reloading the table");
                    if tx.send(Trigger::Signal).await.is_err() {
                        break;
                    }
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "cannot listen for SIGHUP"),
    }
    #[cfg(not(unix))]
    drop(reload);
}
