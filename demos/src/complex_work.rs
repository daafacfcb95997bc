//! `ComplexWork`: an awaitable written by hand.
//!
//! The chapter's first example is a class whose `__await__` is a generator:
//!
//! ```python
//! class ComplexWork:
//!     def __await__(self):
//!         print('Hello')
//!         yield
//!         print('World')
//! ```
//!
//! ```python
//! >>> loop.run_until_complete(ComplexWork())
//! Hello
//! World
//! ```
//!
//! In Rust the awaitable is a type implementing [`Future`], and the
//! generator's suspension points become the states of a small state machine
//! that [`poll`](Future::poll) walks through: each `poll` runs the code up to
//! the next `yield` and returns [`Poll::Pending`] there, the last one returns
//! [`Poll::Ready`]. [`complex_work`] is the `async fn` the chapter says it is
//! equivalent to: the compiler writes that state machine for us.

use std::future::Future;
use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::Transcript;

/// The chapter's `ComplexWork`: prints `Hello`, yields once, prints `World`.
///
/// Written by hand, without `async`: a future is a state machine that
/// remembers how far it got between two polls.
///
/// # Examples
///
/// ```
/// use demos::{complex_work::ComplexWork, Transcript};
///
/// let mut out = Vec::new();
/// let transcript = Transcript::new(&mut out);
/// runtime::block_on(ComplexWork::new(&transcript)); // loop.run_until_complete(ComplexWork())
/// transcript.finish()?;
/// assert_eq!(out, b"Hello\nWorld\n");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ComplexWork<'a, 'w> {
    state: State,
    transcript: &'a Transcript<'w>,
}

/// How far `__await__` got: where the generator is suspended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not started: the next poll prints `Hello` and stops at the `yield`.
    Start,
    /// Suspended at the `yield`: the next poll prints `World` and returns.
    Yielded,
    /// Returned (Python raised `StopIteration`): polling again is a bug.
    Done,
}

impl<'a, 'w> ComplexWork<'a, 'w> {
    /// A `ComplexWork` printing to `transcript`. Like any future (and like
    /// a Python coroutine object) it does nothing until polled.
    pub fn new(transcript: &'a Transcript<'w>) -> ComplexWork<'a, 'w> {
        ComplexWork {
            state: State::Start,
            transcript,
        }
    }
}

impl Future for ComplexWork<'_, '_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.state {
            State::Start => {
                self.transcript.say("Hello");
                self.state = State::Yielded;
                // The bare `yield`: give control back to the event loop. A
                // Rust executor only polls a future again once its waker is
                // called, so we wake ourselves first: "poll me again soon".
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            State::Yielded => {
                self.transcript.say("World");
                self.state = State::Done;
                Poll::Ready(())
            }
            State::Done => panic!("`ComplexWork` polled after it completed"),
        }
    }
}

/// The `async fn` equivalent of [`ComplexWork`].
///
/// The chapter introduces `ComplexWork` as "un équivalent à notre fonction
/// `complex_work`", the coroutine of the chapters before it. Written as an
/// `async fn`, it prints `Hello`, gives control back to the loop once, and
/// prints `World`: [`runtime::yield_now`] is `asyncio.sleep(0)`, returning
/// `Pending` once after waking the task, exactly like the hand-written
/// `yield` of [`ComplexWork`]. The compiler turns this body into the same
/// kind of state machine.
pub async fn complex_work(transcript: &Transcript<'_>) {
    transcript.say("Hello");
    runtime::yield_now().await;
    transcript.say("World");
}

/// Which of the two equivalent awaitables [`run`] runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Flavor {
    /// The hand-written [`ComplexWork`] state machine.
    #[default]
    ByHand,
    /// The [`complex_work`] `async fn`.
    AsyncFn,
}

/// `loop.run_until_complete(ComplexWork())`: runs the awaitable on
/// [`runtime::block_on`]. Both flavors print `Hello` then `World`.
///
/// # Errors
///
/// The first error writing to `out`.
pub fn run(out: &mut impl Write, flavor: Flavor) -> io::Result<()> {
    let transcript = Transcript::new(out);
    match flavor {
        Flavor::ByHand => runtime::block_on(ComplexWork::new(&transcript)),
        Flavor::AsyncFn => runtime::block_on(complex_work(&transcript)),
    }
    transcript.finish()
}
