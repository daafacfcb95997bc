//! The chapter "Attendez-moi !" in Rust, one demo per example.
//!
//! The chapter teaches how `await` works by building awaitables by hand in
//! Python. Each module here reproduces one of its examples on this
//! workspace's [`runtime`] and [`sync_primitives`], and quotes the Python it
//! stands for:
//!
//! | module | the chapter's example |
//! |---|---|
//! | [`complex_work`] | `class ComplexWork` and `loop.run_until_complete(ComplexWork())` |
//! | [`iterate`] | `it = ComplexWork().__await__(); next(it); next(it)` |
//! | [`waiter`] | `Waiter`, `wait_job`, `count_up_to` and `asyncio.gather` |
//! | [`mutex`] | the closing hint: a lock shared between several tasks |
//! | [`spinning_waiter`] | the chapter's own `Waiter`, which yields until done |
//! | [`queue`] | not the chapter's: asyncio's documented `Queue` example (`demos queue`) |
//!
//! Every demo writes its transcript to any [`std::io::Write`], so the binary
//! prints it and the tests can read it:
//!
//! ```
//! let mut out = Vec::new();
//! demos::complex_work::run(&mut out, demos::complex_work::Flavor::ByHand)?;
//! assert_eq!(out, b"Hello\nWorld\n");
//! # Ok::<(), std::io::Error>(())
//! ```

#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

use std::cell::RefCell;
use std::fmt;
use std::io::{self, Write};

pub mod complex_work;
pub mod iterate;
pub mod mutex;
pub mod queue;
pub mod spinning_waiter;
pub mod timeline;
pub mod waiter;

/// The demos in the chapter's order, by the name of their subcommand.
pub const DEMOS: [&str; 4] = ["complex-work", "iterate", "waiter", "mutex"];

/// Runs every demo in the chapter's order, each under a heading such as
/// `== complex-work ==`, with a blank line between them.
///
/// # Errors
///
/// The first error writing to `out`.
pub fn run_all(out: &mut impl Write) -> io::Result<()> {
    for (i, name) in DEMOS.into_iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "== {name} ==")?;
        match name {
            "complex-work" => complex_work::run(out, complex_work::Flavor::ByHand)?,
            "iterate" => iterate::run(out)?,
            "waiter" => waiter::run(out, &waiter::Options::default())?,
            "mutex" => mutex::run(out, &mutex::Options::default())?,
            _ => unreachable!("every name in DEMOS has a demo"),
        }
    }
    Ok(())
}

/// Where the demos' tasks print their lines: the chapter's `print`.
///
/// Several tasks of one demo print to the same output, and the hand-written
/// futures print from inside `poll`, so they share it by reference. The
/// first write error is kept (later lines are dropped) and returned by
/// [`finish`](Transcript::finish), so a task never has to handle it.
pub struct Transcript<'w> {
    out: RefCell<&'w mut dyn Write>,
    error: RefCell<Option<io::Error>>,
}

impl<'w> Transcript<'w> {
    /// A transcript writing to `out`.
    pub fn new(out: &'w mut dyn Write) -> Transcript<'w> {
        Transcript {
            out: RefCell::new(out),
            error: RefCell::new(None),
        }
    }

    /// Prints `line` and a newline, like Python's `print`.
    pub fn say(&self, line: impl fmt::Display) {
        let mut error = self.error.borrow_mut();
        if error.is_none() {
            if let Err(e) = writeln!(self.out.borrow_mut(), "{line}") {
                *error = Some(e);
            }
        }
    }

    /// Flushes the output.
    ///
    /// # Errors
    ///
    /// The first error met by [`say`](Transcript::say), or by the flush.
    pub fn finish(self) -> io::Result<()> {
        match self.error.into_inner() {
            Some(e) => Err(e),
            None => self.out.into_inner().flush(),
        }
    }
}

impl fmt::Debug for Transcript<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transcript")
            .field("error", &self.error.borrow())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::Transcript;
    use std::io::{self, Write};

    /// Accepts `room` lines, then fails every write.
    struct Full {
        room: usize,
        written: Vec<u8>,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "full"));
            }
            self.room -= buf.iter().filter(|&&b| b == b'\n').count();
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn say_writes_lines() {
        let mut out = Vec::new();
        let transcript = Transcript::new(&mut out);
        transcript.say("Hello");
        transcript.say(format_args!("{}", 42));
        transcript.finish().unwrap();
        assert_eq!(out, b"Hello\n42\n");
    }

    #[test]
    fn the_first_error_is_kept_and_later_lines_dropped() {
        let mut out = Full {
            room: 1,
            written: Vec::new(),
        };
        let transcript = Transcript::new(&mut out);
        transcript.say("one");
        transcript.say("two");
        transcript.say("three");
        let error = transcript.finish().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
        assert_eq!(out.written, b"one\n");
    }
}
