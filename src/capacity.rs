//! How many connections fit in this process. The cap asked for is lowered, with one log
//! line, when the open-file limit or the container's memory limit could not hold it:
//! podmeta never grows past its cap, so the cap is what keeps it alive.

use std::path::Path;

/// The connection cap when none is given. It holds the 8,000 pooled connections of a busy
/// fleet with room to spare, and its memory (see [`CONNECTION_BYTES`]) fits the
/// Deployment's limit with headroom.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// Connections on the admin listener: probes and scrapes, a few at a time.
pub const ADMIN_MAX_CONNECTIONS: usize = 64;

/// What one open connection costs, as the container's cgroup counts it (the process's
/// buffers plus the kernel's socket objects and buffers), with room above what
/// `bench/connections.sh` measures: the benchmark's requests are small and read at once,
/// and a slow reader's socket buffers or a request body cost more.
pub const CONNECTION_BYTES: u64 = 24 * 1024;

/// podmeta with no connections open, as the cgroup counts it, rounded up.
pub const BASE_BYTES: u64 = 16 * 1024 * 1024;

/// Connections may use this share of the memory limit (numerator, denominator); the rest
/// is headroom for the allocator, reloads and the kernel.
const MEMORY_SHARE: (u64, u64) = (4, 5);

/// File descriptors kept for everything that is not a connection: the listeners, the
/// table watcher, standard streams, the runtime.
const RESERVED_FILES: u64 = 64;

/// Whatever the limits, at least this many connections are served.
const FLOOR: usize = 16;

/// The cap in force, and why it is lower than asked, if it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit {
    pub max_connections: usize,
    pub lowered_by: Option<Bound>,
}

/// The limit that lowered the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The soft open-file limit (after raising it to the hard limit).
    OpenFiles(u64),
    /// The cgroup memory limit, in bytes.
    Memory(u64),
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OpenFiles(n) => write!(
                f,
                "the open-file limit is {n} ({RESERVED_FILES} are kept for other files)"
            ),
            Self::Memory(bytes) => write!(
                f,
                "the memory limit is {} MiB and a connection takes about {} KiB; {}/{} of the limit is for connections",
                bytes / (1024 * 1024),
                CONNECTION_BYTES / 1024,
                MEMORY_SHARE.0,
                MEMORY_SHARE.1
            ),
        }
    }
}

/// The largest cap up to `wanted` that fits both limits, after `others` connections
/// (the admin listener's) are set aside. A limit that is `None` does not bound it.
pub fn fit(wanted: usize, others: usize, open_files: Option<u64>, memory: Option<u64>) -> Fit {
    let others = others as u64;
    let by_files = open_files.map(|n| {
        (
            n.saturating_sub(RESERVED_FILES + others),
            Bound::OpenFiles(n),
        )
    });
    let by_memory = memory.map(|bytes| {
        let for_connections = bytes / MEMORY_SHARE.1 * MEMORY_SHARE.0;
        let n = for_connections.saturating_sub(BASE_BYTES) / CONNECTION_BYTES;
        (n.saturating_sub(others), Bound::Memory(bytes))
    });
    let mut fit = Fit {
        max_connections: wanted,
        lowered_by: None,
    };
    for (most, bound) in [by_files, by_memory].into_iter().flatten() {
        let most = usize::try_from(most).unwrap_or(usize::MAX).max(FLOOR);
        if most < fit.max_connections {
            fit = Fit {
                max_connections: most,
                lowered_by: Some(bound),
            };
        }
    }
    fit
}

/// Raises the soft open-file limit to the hard one, and returns the soft limit in force
/// (`None` if it cannot be read).
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

/// The memory limit of this process's cgroup, if it has one: cgroup v2's `memory.max`,
/// else cgroup v1's `memory.limit_in_bytes`, as a container sees its own.
pub fn memory_limit() -> Option<u64> {
    memory_limit_under(Path::new("/sys/fs/cgroup"))
}

fn memory_limit_under(root: &Path) -> Option<u64> {
    let read = |p: &str| std::fs::read_to_string(root.join(p)).ok();
    let value = read("memory.max").or_else(|| read("memory/memory.limit_in_bytes"))?;
    // v2 writes "max" for none; v1 writes a number near 2^63 for none.
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|&bytes| bytes < (1 << 62))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn a_cap_that_fits_both_limits_is_kept() {
        let fit = fit(10_000, 64, Some(1 << 20), Some(1024 * MIB));
        assert_eq!(fit.max_connections, 10_000);
        assert_eq!(fit.lowered_by, None);
    }

    #[test]
    fn no_known_limit_keeps_the_cap() {
        assert_eq!(fit(10_000, 64, None, None).max_connections, 10_000);
    }

    #[test]
    fn the_open_file_limit_lowers_the_cap_keeping_files_for_the_rest() {
        let fit = fit(10_000, 64, Some(1024), None);
        assert_eq!(fit.max_connections, 1024 - 64 - 64);
        assert_eq!(fit.lowered_by, Some(Bound::OpenFiles(1024)));
    }

    #[test]
    fn the_memory_limit_lowers_the_cap_keeping_headroom() {
        // 80 MiB: 64 for connections, less 16 for the process: 48 MiB / 24 KiB = 2048,
        // less the admin listener's 64.
        let fit = fit(10_000, 64, Some(1 << 20), Some(80 * MIB));
        assert_eq!(fit.max_connections, 2048 - 64);
        assert_eq!(fit.lowered_by, Some(Bound::Memory(80 * MIB)));
    }

    #[test]
    fn the_tighter_limit_wins() {
        let fit = fit(10_000, 0, Some(500), Some(64 * MIB));
        assert_eq!(fit.max_connections, 500 - 64);
        assert_eq!(fit.lowered_by, Some(Bound::OpenFiles(500)));
    }

    #[test]
    fn a_tiny_limit_still_leaves_a_few_connections() {
        assert_eq!(fit(10_000, 64, Some(10), Some(MIB)).max_connections, FLOOR);
    }

    #[test]
    fn the_reason_names_the_limit() {
        let text = Bound::Memory(64 * MIB).to_string();
        assert!(text.contains("memory limit is 64 MiB"), "{text}");
        let text = Bound::OpenFiles(1024).to_string();
        assert!(text.contains("open-file limit is 1024"), "{text}");
    }

    #[test]
    fn the_memory_limit_is_read_from_cgroup_v2_then_v1() {
        let dir = std::env::temp_dir().join(format!("podmeta-cgroup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("memory")).unwrap();
        assert_eq!(memory_limit_under(&dir), None);
        std::fs::write(
            dir.join("memory/memory.limit_in_bytes"),
            "9223372036854771712\n",
        )
        .unwrap();
        assert_eq!(memory_limit_under(&dir), None, "v1's 'no limit'");
        std::fs::write(dir.join("memory/memory.limit_in_bytes"), "67108864\n").unwrap();
        assert_eq!(memory_limit_under(&dir), Some(64 * MIB));
        std::fs::write(dir.join("memory.max"), "max\n").unwrap();
        assert_eq!(
            memory_limit_under(&dir),
            None,
            "v2's 'no limit' comes first"
        );
        std::fs::write(dir.join("memory.max"), "268435456\n").unwrap();
        assert_eq!(memory_limit_under(&dir), Some(256 * MIB));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
