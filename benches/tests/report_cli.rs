//! The `report` binary end to end: a fixture criterion directory in, a
//! markdown table out; a missing directory is exit status 1.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn report() -> Command {
    Command::new(env!("CARGO_BIN_EXE_report"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("benches-cli-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn save(dir: &Path, subdir: &str, benchmark: &str, median_ns: f64) {
    let new = dir.join(subdir).join("new");
    fs::create_dir_all(&new).unwrap();
    fs::write(new.join("benchmark.json"), benchmark).unwrap();
    fs::write(
        new.join("estimates.json"),
        format!(r#"{{"median":{{"point_estimate":{median_ns}}}}}"#),
    )
    .unwrap();
}

#[test]
fn missing_dir_exits_1_with_a_message() {
    let dir = scratch("missing");
    let out = report().arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("no criterion results at"), "{err}");
    assert!(err.contains("run `cargo bench` first"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_arguments_exit_2() {
    let out = report().args(["--command"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = report().args(["a", "b"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn prints_ratio_tables_from_a_criterion_dir() {
    let dir = scratch("tables");
    save(
        &dir,
        "yield_many/ours_current_thread",
        r#"{"group_id":"yield_many","function_id":"ours/current_thread","value_str":null,"throughput":{"Elements":1000}}"#,
        100_000.0,
    );
    save(
        &dir,
        "yield_many/tokio_current_thread",
        r#"{"group_id":"yield_many","function_id":"tokio/current_thread","value_str":null,"throughput":{"Elements":1000}}"#,
        250_000.0,
    );
    let out = report()
        .args(["--command", "cargo bench -p benches"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("# Benchmark results\n"), "{md}");
    assert!(
        md.contains("benchmarks run with `cargo bench -p benches`"),
        "{md}"
    );
    assert!(
        md.contains("| yield_many | `ours/current_thread` (100 µs) | `tokio/current_thread` (250 µs) | 0.40 |"),
        "{md}"
    );
    assert!(
        md.contains("| `ours/current_thread` | ours | 100 µs | 100 | 0.40 |"),
        "{md}"
    );
    fs::remove_dir_all(&dir).unwrap();
}
