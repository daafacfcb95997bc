//! Prints markdown ratio tables from criterion's saved estimates.
//!
//! ```text
//! cargo run -p benches --bin report [-- [--command "<cargo bench ...>"] [--note "<text>"] [CRITERION_DIR]]
//! ```
//!
//! The directory defaults to `$CRITERION_HOME`, else
//! `$CARGO_TARGET_DIR/criterion`, else the workspace's `target/criterion`
//! (where `cargo bench` puts it). Exits with status 1 when there is nothing
//! to report, 2 on bad arguments.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use benches::report::{build_tables, header, load_dir, render_markdown};

const USAGE: &str =
    "usage: report [--command \"<the cargo bench command>\"] [--note \"<text>\"] [CRITERION_DIR]";

fn default_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    // benches/ sits one level below the workspace root.
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/criterion")
}

fn main() -> ExitCode {
    let mut command = None;
    let mut note = None;
    let mut dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--command" => match args.next() {
                Some(c) => command = Some(c),
                None => {
                    eprintln!("report: --command needs a value\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--note" => match args.next() {
                Some(n) => note = Some(n),
                None => {
                    eprintln!("report: --note needs a value\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ if dir.is_none() && !arg.starts_with('-') => dir = Some(PathBuf::from(arg)),
            _ => {
                eprintln!("report: unexpected argument `{arg}`\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let dir = dir.unwrap_or_else(default_dir);
    let dir = dir.canonicalize().unwrap_or(dir);

    let benches = match load_dir(&dir) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("report: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    print!(
        "{}",
        header::render_header(
            SystemTime::now(),
            cores,
            command.as_deref(),
            note.as_deref(),
            &dir.display().to_string()
        )
    );
    print!("{}", render_markdown(&build_tables(benches)));
    ExitCode::SUCCESS
}
