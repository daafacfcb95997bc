//! Finding and reading criterion's saved results on disk.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{parse_benchmark, Benchmark, ParseError};

/// Why the saved results could not be read.
#[derive(Debug)]
pub enum LoadError {
    /// The criterion directory does not exist: no benchmark has run yet.
    NoCriterionDir(PathBuf),
    /// The directory exists but holds no `*/new/benchmark.json`.
    NoBenchmarks(PathBuf),
    /// A file could not be read.
    Io(PathBuf, io::Error),
    /// A file is not what criterion writes.
    Parse(PathBuf, ParseError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NoCriterionDir(dir) => write!(
                f,
                "no criterion results at {}: run `cargo bench` first (or pass the directory as the first argument)",
                dir.display()
            ),
            LoadError::NoBenchmarks(dir) => write!(
                f,
                "no saved benchmark (*/new/benchmark.json) under {}: run `cargo bench` without `--test` first",
                dir.display()
            ),
            LoadError::Io(path, e) => write!(f, "cannot read {}: {e}", path.display()),
            LoadError::Parse(path, e) => write!(f, "{}: {e}", path.display()),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Io(_, e) => Some(e),
            LoadError::Parse(_, e) => Some(e),
            _ => None,
        }
    }
}

/// Reads every benchmark saved under `dir` (criterion's output directory,
/// usually `target/criterion`): each `.../new/benchmark.json` with the
/// `estimates.json` beside it. `base/` and `change/` (older runs and
/// comparisons) are skipped. The result is sorted by criterion's full id.
pub fn load_dir(dir: &Path) -> Result<Vec<Benchmark>, LoadError> {
    if !dir.is_dir() {
        return Err(LoadError::NoCriterionDir(dir.to_owned()));
    }
    let mut found = Vec::new();
    walk(dir, &mut found)?;
    if found.is_empty() {
        return Err(LoadError::NoBenchmarks(dir.to_owned()));
    }
    found.sort();
    found.iter().map(|new_dir| load_one(new_dir)).collect()
}

/// Collects the `new/` directories that hold a `benchmark.json`.
fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = fs::read_dir(dir).map_err(|e| LoadError::Io(dir.to_owned(), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| LoadError::Io(dir.to_owned(), e))?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if entry.file_name() == "new" && path.join("benchmark.json").is_file() {
            found.push(path);
        } else {
            walk(&path, found)?;
        }
    }
    Ok(())
}

fn load_one(new_dir: &Path) -> Result<Benchmark, LoadError> {
    let read = |name: &str| {
        let path = new_dir.join(name);
        fs::read_to_string(&path).map_err(|e| LoadError::Io(path, e))
    };
    let benchmark = read("benchmark.json")?;
    let estimates = read("estimates.json")?;
    parse_benchmark(&benchmark, &estimates).map_err(|e| LoadError::Parse(new_dir.to_owned(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("benches-report-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn missing_dir_is_a_clear_error() {
        let dir = scratch("missing");
        let err = load_dir(&dir).unwrap_err();
        assert!(matches!(err, LoadError::NoCriterionDir(_)));
        assert!(err.to_string().contains("run `cargo bench` first"), "{err}");
    }

    #[test]
    fn walks_new_dirs_and_skips_base() {
        let dir = scratch("walk");
        let new = dir.join("spawn_many/ours_current_thread/new");
        let base = dir.join("spawn_many/ours_current_thread/base");
        fs::create_dir_all(&new).unwrap();
        fs::create_dir_all(&base).unwrap();
        fs::create_dir_all(dir.join("spawn_many/report")).unwrap();
        let id = r#"{"group_id":"spawn_many","function_id":"ours/current_thread","value_str":null,"throughput":{"Elements":10000}}"#;
        fs::write(new.join("benchmark.json"), id).unwrap();
        fs::write(
            new.join("estimates.json"),
            r#"{"median":{"point_estimate":1.0}}"#,
        )
        .unwrap();
        fs::write(base.join("benchmark.json"), id).unwrap();
        fs::write(
            base.join("estimates.json"),
            r#"{"median":{"point_estimate":9.0}}"#,
        )
        .unwrap();

        let benches = load_dir(&dir).unwrap();
        assert_eq!(benches.len(), 1);
        assert_eq!(benches[0].median_ns, 1.0);

        fs::write(new.join("estimates.json"), "{}").unwrap();
        let err = load_dir(&dir).unwrap_err();
        assert!(matches!(err, LoadError::Parse(..)), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn empty_dir_is_an_error_too() {
        let dir = scratch("empty");
        fs::create_dir_all(&dir).unwrap();
        assert!(matches!(load_dir(&dir), Err(LoadError::NoBenchmarks(_))));
        fs::remove_dir_all(&dir).unwrap();
    }
}
