//! The command line: `podmeta check` like `nginx -t`, and refusing to start on a bad table.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_podmeta");
const TABLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/pods.toml");

/// A copy of the shipped table with one change, in a directory removed when the copy is
/// dropped.
struct BrokenCopy {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

fn broken_copy(name: &str, from: &str, to: &str) -> BrokenCopy {
    let text = std::fs::read_to_string(TABLE).unwrap();
    assert!(text.contains(from));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    BrokenCopy { _dir: dir, path }
}

#[test]
fn check_accepts_the_shipped_table_with_a_one_line_summary() {
    let out = Command::new(BIN).args(["check", TABLE]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.ends_with("ok: 4 pods (us1, us2, eu1, au1)\n"),
        "{stdout}"
    );
}

#[test]
fn check_refuses_a_broken_table_naming_file_line_and_value_with_exit_2() {
    let copy = broken_copy(
        "bad-port.toml",
        "port = 4422\nip = \"18",
        "port = 70000\nip = \"18",
    );
    let path = copy.path.as_path();
    let out = Command::new(BIN).arg("check").arg(path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let line = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .position(|l| l == "port = 70000")
        .unwrap()
        + 1;
    assert!(
        stderr.starts_with(&format!("{}:{line}:", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("pods[2].sftp.port"), "{stderr}");
    assert!(
        stderr.contains("expected a port number from 1 to 65535, got \"70000\""),
        "{stderr}"
    );
}

#[test]
fn serving_with_an_invalid_table_exits_2_before_binding() {
    let copy = broken_copy("bad-region.toml", "\"eu-central-1\"", "\"Frankfurt\"");
    let path = copy.path.as_path();
    let out = Command::new(BIN)
        .args(["--bind", "127.0.0.1:0", "--config"])
        .arg(path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("AWS region"), "{stderr}");
    assert!(!stderr.contains("ready"), "{stderr}");
}

#[test]
fn the_config_can_be_named_by_environment_variable() {
    let copy = broken_copy("bad-env.toml", "\"ap-southeast-2\"", "\"sydney\"");
    let path = copy.path.as_path();
    let out = Command::new(BIN)
        .args(["--bind", "127.0.0.1:0"])
        .env("PODMETA_CONFIG", path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_of_a_missing_file_exits_2() {
    let out = Command::new(BIN)
        .args(["check", "/nonexistent/pods.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The README's table of flags, as (flag, environment variable, default) per row.
fn readme_flags() -> Vec<(String, String, String)> {
    let readme = include_str!("../../README.md");
    let table = readme
        .split("## Configuration")
        .nth(1)
        .expect("the README has a Configuration section");
    let code = |cell: &str| cell.split('`').nth(1).unwrap_or("").to_owned();
    table
        .lines()
        .skip_while(|l| !l.starts_with("| `--"))
        .take_while(|l| l.starts_with('|'))
        .map(|row| {
            let cells: Vec<&str> = row.split(" | ").collect();
            let flag = code(cells[0]).split(' ').next().unwrap().to_owned();
            (flag, code(cells[1]), code(cells[2]))
        })
        .collect()
}

#[test]
fn the_readme_lists_every_flag_with_the_environment_variable_and_default_of_help() {
    let help = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    // Each option's entry: its flag line, then its description up to the next option.
    let mut in_help = Vec::new();
    for entry in help.split("\n      --").skip(1) {
        let flag = format!("--{}", entry.split([' ', '\n', '=']).next().unwrap());
        if flag == "--help" || flag == "--version" {
            continue;
        }
        let bracket = |name: &str| {
            entry
                .split(&format!("[{name}: "))
                .nth(1)
                .map(|rest| rest.split(']').next().unwrap().trim_matches('"').to_owned())
        };
        let env = bracket("env").map(|e| e.trim_end_matches('=').to_owned());
        in_help.push((flag, env.unwrap_or_default(), bracket("default")));
    }
    let readme = readme_flags();
    let names = |rows: Vec<String>| rows.into_iter().collect::<std::collections::BTreeSet<_>>();
    assert_eq!(
        names(in_help.iter().map(|(f, ..)| f.clone()).collect()),
        names(readme.iter().map(|(f, ..)| f.clone()).collect()),
        "the README's flags and --help's differ"
    );
    for (flag, env, default) in in_help {
        let (_, readme_env, readme_default) = readme.iter().find(|(f, ..)| *f == flag).unwrap();
        assert_eq!(*readme_env, env, "{flag}: environment variable");
        if let Some(default) = default {
            assert_eq!(*readme_default, default, "{flag}: default");
        }
    }
}

/// Runs podmeta with `args` and stdin from `stdin`, for at most 10 s: its exit code and
/// stderr. A command that would block or read without end fails the test instead.
fn run_bounded(args: &[&str], stdin: std::process::Stdio) -> (Option<i32>, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(stdin)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            return (status.code(), stderr);
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("podmeta {args:?} still running after 10 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A FIFO in a fresh directory, which nothing writes to.
fn fifo() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pods.toml");
    let made = Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(made.success());
    (dir, path.display().to_string())
}

#[test]
fn a_table_path_that_is_a_fifo_or_a_device_is_refused_at_once() {
    let (_dir, fifo) = fifo();
    for args in [
        vec!["check", fifo.as_str()],
        vec!["--config", fifo.as_str(), "pods"],
        vec!["check", "/dev/zero"],
        vec!["--config", "/dev/zero", "pods"],
    ] {
        let (code, stderr) = run_bounded(&args, std::process::Stdio::null());
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("not a regular file"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_table_larger_than_the_limit_is_refused_without_reading_it_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pods.toml");
    let file = std::fs::File::create(&path).unwrap();
    // Sparse: 1 GiB that takes no disk.
    file.set_len(1 << 30).unwrap();
    let (code, stderr) = run_bounded(
        &["check", &path.display().to_string()],
        std::process::Stdio::null(),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("larger than 4194304 bytes"), "{stderr}");
}

#[test]
fn a_looked_up_value_on_endless_stdin_is_refused_at_its_limit() {
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let (code, stderr) = run_bounded(&["lookup", "-"], zero.into());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("expected at most 2048 bytes"), "{stderr}");
}
