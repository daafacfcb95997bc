//! The built `demos` binary against the chapter's transcripts, byte for
//! byte.
//!
//! The expected text is the chapter's, with Python's `[None, None]` written
//! `[(), ()]`: our tasks return `()`.

use std::process::{Command, Output, Stdio};

/// Runs the built binary with `args`.
fn demos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_demos"))
        .args(args)
        .output()
        .expect("the demos binary runs")
}

/// Runs `demos args`, checks it succeeded quietly, and returns its stdout.
fn stdout(args: &[&str]) -> String {
    let out = demos(args);
    assert!(
        out.status.success(),
        "demos {args:?} failed with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "demos {args:?} wrote to stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// `loop.run_until_complete(ComplexWork())`.
const COMPLEX_WORK: &str = "Hello\nWorld\n";

/// `next(it)` twice: what `__await__` printed, then what `poll` returned
/// (`Ready(())` is Python's `StopIteration`).
const ITERATE: &str = "Hello\nPending\nWorld\nReady(())\n";

/// `loop.run_until_complete(asyncio.gather(wait_job(waiter), count_up_to(waiter, 10)))`.
const WAITER: &str = "start\n0\n1\n2\n3\n4\n5\n6\n7\n8\n9\nfinished\n[(), ()]\n";

/// Four tasks, two rounds each: the lock goes round in FIFO order.
const MUTEX: &str = "\
task 0 waits for the lock
task 0 takes the lock, count = 0
task 1 waits for the lock
task 2 waits for the lock
task 3 waits for the lock
task 0 releases the lock, count = 1
task 0 waits for the lock
task 1 takes the lock, count = 1
task 1 releases the lock, count = 2
task 1 waits for the lock
task 2 takes the lock, count = 2
task 2 releases the lock, count = 3
task 2 waits for the lock
task 3 takes the lock, count = 3
task 3 releases the lock, count = 4
task 3 waits for the lock
task 0 takes the lock, count = 4
task 0 releases the lock, count = 5
task 1 takes the lock, count = 5
task 1 releases the lock, count = 6
task 2 takes the lock, count = 6
task 2 releases the lock, count = 7
task 3 takes the lock, count = 7
task 3 releases the lock, count = 8
lock taken in order: 0 1 2 3 0 1 2 3
final count: 8 (4 tasks x 2 rounds)
";

#[test]
fn complex_work_prints_hello_world() {
    assert_eq!(stdout(&["complex-work"]), COMPLEX_WORK);
}

#[test]
fn the_async_fn_is_equivalent() {
    assert_eq!(stdout(&["complex-work", "--async-fn"]), COMPLEX_WORK);
}

#[test]
fn iterate_shows_each_poll() {
    assert_eq!(stdout(&["iterate"]), ITERATE);
}

#[test]
fn waiter_prints_the_chapters_transcript() {
    assert_eq!(stdout(&["waiter"]), WAITER);
    assert_eq!(stdout(&["waiter", "--sleep-ms", "0"]), WAITER);
}

#[test]
fn waiter_order_does_not_depend_on_the_sleep() {
    assert_eq!(stdout(&["waiter", "--sleep-ms", "20"]), WAITER);
}

#[test]
fn the_spinning_waiter_prints_the_same_transcript() {
    assert_eq!(stdout(&["waiter", "--spinning"]), WAITER);
    assert_eq!(
        stdout(&["waiter", "--spinning", "--sleep-ms", "5", "--count", "3"]),
        "start\n0\n1\n2\nfinished\n[(), ()]\n"
    );
}

#[test]
fn count_sets_how_far_count_up_to_goes() {
    assert_eq!(
        stdout(&["waiter", "--count", "3"]),
        "start\n0\n1\n2\nfinished\n[(), ()]\n"
    );
    assert_eq!(
        stdout(&["waiter", "--count", "0"]),
        "start\nfinished\n[(), ()]\n"
    );
}

/// The number after `polls of the wait: ` on the last line, checking that
/// the transcript before it is `transcript`.
fn polls_of_the_wait(args: &[&str], transcript: &str) -> u64 {
    let out = stdout(args);
    let stats = out
        .strip_prefix(transcript)
        .unwrap_or_else(|| panic!("demos {args:?} printed {out:?}"));
    stats
        .strip_prefix("polls of the wait: ")
        .and_then(|n| n.strip_suffix('\n'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("demos {args:?} ended with {stats:?}"))
}

#[test]
fn our_waiter_is_polled_twice() {
    // Once to register its waker, once when `set_done` wakes it.
    assert_eq!(polls_of_the_wait(&["waiter", "--stats"], WAITER), 2);
    assert_eq!(
        polls_of_the_wait(&["waiter", "--stats", "--sleep-ms", "20"], WAITER),
        2
    );
}

#[test]
fn the_spinning_waiter_is_polled_at_every_step() {
    let polls = polls_of_the_wait(&["waiter", "--stats", "--spinning"], WAITER);
    assert!(polls >= 10, "polled {polls} times for 10 steps");

    let polls = polls_of_the_wait(
        &["waiter", "--stats", "--spinning", "--count", "100"],
        &format!(
            "start\n{}finished\n[(), ()]\n",
            (0..100).map(|i| format!("{i}\n")).collect::<String>()
        ),
    );
    assert!(polls >= 100, "polled {polls} times for 100 steps");
}

#[test]
fn mutex_hands_the_lock_over_in_fifo_order() {
    assert_eq!(stdout(&["mutex"]), MUTEX);
}

#[test]
fn mutex_counts_exactly() {
    let out = stdout(&["mutex", "--tasks", "7", "--rounds", "5"]);
    assert!(
        out.ends_with("final count: 35 (7 tasks x 5 rounds)\n"),
        "{out}"
    );
    let order: String = (0..5).map(|_| "0 1 2 3 4 5 6 ").collect();
    assert!(
        out.contains(&format!("lock taken in order: {}\n", order.trim_end())),
        "{out}"
    );
}

#[test]
fn no_subcommand_runs_every_demo_in_the_chapters_order() {
    let expected = format!(
        "== complex-work ==\n{COMPLEX_WORK}\n\
         == iterate ==\n{ITERATE}\n\
         == waiter ==\n{WAITER}\n\
         == mutex ==\n{MUTEX}"
    );
    assert_eq!(stdout(&[]), expected);
}

/// Runs `demos args`, checks it failed with status 2 and nothing on stdout,
/// and returns its stderr.
fn usage_error(args: &[&str]) -> String {
    let out = demos(args);
    assert_eq!(out.status.code(), Some(2), "demos {args:?}");
    assert!(out.stdout.is_empty(), "demos {args:?}");
    let stderr = String::from_utf8(out.stderr).expect("stderr is UTF-8");
    assert!(stderr.starts_with("error: "), "demos {args:?}: {stderr}");
    assert!(stderr.contains("--help"), "demos {args:?}: {stderr}");
    stderr
}

#[test]
fn bad_arguments_print_usage_and_exit_with_2() {
    for args in [
        &["--no-such-flag"][..],
        &["no-such-demo"],
        &["iterate", "extra"],
        &["waiter", "--no-such-flag"],
    ] {
        let stderr = usage_error(args);
        assert!(stderr.contains("Usage: demos"), "demos {args:?}: {stderr}");
    }
}

#[test]
fn bad_values_exit_with_2() {
    for args in [
        &["waiter", "--count", "ten"][..],
        &["waiter", "--sleep-ms", "-1"],
        &["mutex", "--tasks"],
    ] {
        usage_error(args);
    }
}

#[test]
fn help_lists_every_demo() {
    let help = stdout(&["--help"]);
    assert!(help.starts_with("The chapter"), "{help}");
    for demo in ["complex-work", "iterate", "waiter", "mutex"] {
        assert!(help.contains(demo), "{demo} missing from\n{help}");
    }
    let help = stdout(&["waiter", "--help"]);
    for option in ["--sleep-ms", "--count", "--spinning", "--stats"] {
        assert!(help.contains(option), "{option} missing from\n{help}");
    }
}

#[test]
fn a_reader_that_stops_early_ends_the_run_quietly() {
    // `demos waiter --sleep-ms 20 | head -1`: the pipe closes while the demo
    // still prints.
    let mut child = Command::new(env!("CARGO_BIN_EXE_demos"))
        .args(["waiter", "--sleep-ms", "20", "--count", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the demos binary runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("the demos binary ends");
    assert!(out.status.success(), "{}", out.status);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `demos queue --seed 1`: asyncio's Queue example, 20 sleeps, 3 workers.
/// The same at any `--speed`: the workers take turns on the schedule.
const QUEUE_SEED_1: &str = "\
worker-1 has slept for 0.12 seconds
worker-1 has slept for 0.16 seconds
worker-2 has slept for 0.35 seconds
worker-0 has slept for 0.70 seconds
worker-2 has slept for 0.37 seconds
worker-1 has slept for 0.62 seconds
worker-2 has slept for 0.26 seconds
worker-2 has slept for 0.27 seconds
worker-0 has slept for 0.74 seconds
worker-2 has slept for 0.38 seconds
worker-1 has slept for 0.77 seconds
worker-1 has slept for 0.15 seconds
worker-2 has slept for 0.37 seconds
worker-1 has slept for 0.45 seconds
worker-1 has slept for 0.08 seconds
worker-0 has slept for 0.99 seconds
worker-1 has slept for 0.22 seconds
worker-0 has slept for 0.19 seconds
worker-2 has slept for 0.64 seconds
worker-1 has slept for 0.77 seconds
====
3 workers slept in parallel for 3.34 seconds
total expected sleep time: 8.60 seconds
";

#[test]
fn queue_prints_asyncios_example_deterministically() {
    assert_eq!(
        stdout(&["queue", "--seed", "1", "--speed", "20"]),
        QUEUE_SEED_1
    );
    assert_eq!(
        stdout(&["queue", "--seed", "1", "--speed", "1000"]),
        QUEUE_SEED_1,
        "the transcript does not depend on how late the timers fire"
    );
}

#[test]
fn queue_seeds_and_sizes() {
    let other = stdout(&["queue", "--seed", "2", "--speed", "50"]);
    assert_ne!(other, QUEUE_SEED_1, "another seed, other sleeps");
    let small = stdout(&[
        "queue",
        "--seed",
        "7",
        "--items",
        "6",
        "--workers",
        "2",
        "--speed",
        "50",
    ]);
    // Every item is slept on once, by one of the two workers.
    let lines: Vec<&str> = small.lines().collect();
    assert_eq!(lines.len(), 6 + 3);
    assert!(lines[..6]
        .iter()
        .all(|l| l.starts_with("worker-0 ") || l.starts_with("worker-1 ")));
    assert_eq!(lines[6], "====");
    assert!(lines[7].starts_with("2 workers slept in parallel for "));
}

#[test]
fn queue_rejects_zero_workers_or_speed() {
    for args in [["queue", "--workers", "0"], ["queue", "--speed", "0"]] {
        let out = demos(&args);
        assert_eq!(out.status.code(), Some(2), "demos {args:?}");
    }
}
