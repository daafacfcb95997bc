//! `demos`: the chapter "Attendez-moi !" in Rust, from the command line.
//!
//! `demos` alone runs every demo in the chapter's order; a subcommand runs
//! one. The demos themselves live in the library (`demos::complex_work`,
//! ...); this file is only the command line.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// The chapter "Attendez-moi !" in Rust: awaitables, a Waiter and a Mutex
/// between tasks.
///
/// Without a subcommand, runs every demo in the chapter's order.
#[derive(Debug, Parser)]
#[command(name = "demos", version)]
struct Cli {
    #[command(subcommand)]
    demo: Option<Demo>,
}

#[derive(Debug, Subcommand)]
enum Demo {
    /// `ComplexWork`, a future written by hand: prints Hello, yields once,
    /// prints World
    ComplexWork {
        /// Run the equivalent `async fn complex_work` instead of the
        /// hand-written state machine
        #[arg(long)]
        async_fn: bool,
    },
    /// Poll a `ComplexWork` by hand, step by step: the chapter's `next(it)`
    Iterate,
    /// `wait_job` waits on a Waiter while `count_up_to` counts, gathered
    Waiter(WaiterArgs),
    /// Tasks sharing a counter through a FIFO Mutex
    Mutex(MutexArgs),
    /// asyncio's Queue example: workers consume random sleeps, join, cancel
    Queue(QueueArgs),
}

#[derive(Debug, Args)]
struct WaiterArgs {
    /// Milliseconds `count_up_to` sleeps after each number (0: yield, the
    /// chapter's `asyncio.sleep(0)`)
    #[arg(long, value_name = "N", default_value_t = 0)]
    sleep_ms: u64,
    /// How many numbers `count_up_to` prints
    #[arg(long, value_name = "N", default_value_t = 10)]
    count: u32,
    /// Use the chapter's own Waiter, which yields until done, instead of
    /// `sync_primitives::Waiter`
    #[arg(long)]
    spinning: bool,
    /// After the run, print how many times the wait was polled
    #[arg(long)]
    stats: bool,
    /// Also write the task timeline of ours and the spinning waiter, one
    /// above the other, to FILE (SVG)
    #[arg(long, value_name = "FILE")]
    timeline: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct MutexArgs {
    /// How many tasks share the counter
    #[arg(long, value_name = "N", default_value_t = 4)]
    tasks: u32,
    /// How many times each task takes the lock
    #[arg(long, value_name = "N", default_value_t = 2)]
    rounds: u32,
    /// Also write the tasks' timeline to FILE (SVG)
    #[arg(long, value_name = "FILE")]
    timeline: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct QueueArgs {
    /// Seeds the random sleeps: the same seed prints the same transcript
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// How many sleeps are queued
    #[arg(long, value_name = "N", default_value_t = 20)]
    items: u32,
    /// How many workers consume them
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    workers: u32,
    /// Run the sleeps N times faster than real time
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    speed: u32,
}

fn run(demo: Option<Demo>, out: &mut impl Write) -> io::Result<()> {
    match demo {
        None => demos::run_all(out),
        Some(Demo::ComplexWork { async_fn }) => {
            let flavor = if async_fn {
                demos::complex_work::Flavor::AsyncFn
            } else {
                demos::complex_work::Flavor::ByHand
            };
            demos::complex_work::run(out, flavor)
        }
        Some(Demo::Iterate) => demos::iterate::run(out),
        Some(Demo::Waiter(args)) => {
            let sleep = Duration::from_millis(args.sleep_ms);
            demos::waiter::run(
                out,
                &demos::waiter::Options {
                    count: args.count,
                    sleep,
                    spinning: args.spinning,
                    stats: args.stats,
                },
            )?;
            match args.timeline {
                Some(path) => {
                    write_timeline(out, &demos::timeline::waiter(args.count, sleep), &path)
                }
                None => Ok(()),
            }
        }
        Some(Demo::Mutex(args)) => {
            demos::mutex::run(
                out,
                &demos::mutex::Options {
                    tasks: args.tasks,
                    rounds: args.rounds,
                },
            )?;
            match args.timeline {
                Some(path) => {
                    write_timeline(out, &demos::timeline::mutex(args.tasks, args.rounds), &path)
                }
                None => Ok(()),
            }
        }
        Some(Demo::Queue(args)) => demos::queue::run(
            out,
            &demos::queue::Options {
                seed: args.seed,
                items: args.items,
                workers: args.workers,
                speed: args.speed,
            },
        ),
    }
}

/// Writes `timeline` to `path` and says where.
fn write_timeline(
    out: &mut impl Write,
    timeline: &timeline::Timeline,
    path: &std::path::Path,
) -> io::Result<()> {
    demos::timeline::write(timeline, path)?;
    writeln!(out, "timeline written to {}", path.display())
}

fn main() -> ExitCode {
    // Bad arguments: clap prints the usage error and exits with status 2.
    let cli = Cli::parse();
    match run(cli.demo, &mut io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        // `demos | head`: the reader has seen enough.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demos: {e}");
            ExitCode::FAILURE
        }
    }
}
