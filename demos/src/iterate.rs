//! Polling `ComplexWork` by hand: the chapter's `next(it)`.
//!
//! The chapter shows that an awaitable is only an iterator, stepped by hand
//! without any event loop:
//!
//! ```python
//! >>> it = ComplexWork().__await__()
//! >>> next(it)
//! Hello
//! >>> next(it)
//! World
//! Traceback (most recent call last):
//!   File "<stdin>", line 1, in <module>
//! StopIteration
//! ```
//!
//! Rust's `next(it)` is [`Future::poll`]. It needs a [`Context`], which
//! carries the waker an executor would use to know when to poll again; we
//! are the executor here and call `poll` ourselves, so a waker that does
//! nothing ([`Waker::noop`]) will do. Each step prints what the awaitable
//! printed, then what `poll` returned: [`Poll::Pending`] where Python's
//! generator yielded, and [`Poll::Ready`] where it raised `StopIteration`.

use std::future::Future;
use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::complex_work::ComplexWork;
use crate::Transcript;

/// Polls a [`ComplexWork`] twice by hand and prints each step:
/// `Hello`, `Pending`, `World`, `Ready(())`.
///
/// # Errors
///
/// The first error writing to `out`.
pub fn run(out: &mut impl Write) -> io::Result<()> {
    let transcript = Transcript::new(out);
    // it = ComplexWork().__await__()
    let mut it = ComplexWork::new(&transcript);
    let mut cx = Context::from_waker(Waker::noop());

    // next(it): prints Hello, then stops at the yield.
    let step: Poll<()> = Pin::new(&mut it).poll(&mut cx);
    transcript.say(format_args!("{step:?}"));

    // next(it): prints World, then returns: Python's StopIteration.
    let step: Poll<()> = Pin::new(&mut it).poll(&mut cx);
    transcript.say(format_args!("{step:?}"));

    transcript.finish()
}
