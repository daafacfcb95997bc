//! Two tasks synchronised by a `Waiter`, gathered.
//!
//! ```python
//! >>> waiter = Waiter()
//! >>>
//! >>> async def wait_job(waiter):
//! ...     print('start')
//! ...     await waiter # wait for count_up_to to be finished
//! ...     print('finished')
//! ...
//! >>> async def count_up_to(waiter, n):
//! ...     for i in range(n):
//! ...         print(i)
//! ...         await asyncio.sleep(0)
//! ...     waiter.done = True
//! ...
//! >>> loop.run_until_complete(asyncio.gather(wait_job(waiter), count_up_to(waiter, 10)))
//! start
//! 0
//! 1
//! 2
//! 3
//! 4
//! 5
//! 6
//! 7
//! 8
//! 9
//! finished
//! [None, None]
//! ```
//!
//! [`run`] does the same on [`runtime::block_on`] and [`runtime::gather!`],
//! with [`sync_primitives::Waiter`] (woken once, when done) or the chapter's
//! own [`SpinningWaiter`] (which polls itself until done). Our tasks return
//! `()` where Python's return `None`, so the gathered result prints as
//! `[(), ()]`. The chapter suggests varying the sleep to see that the order
//! is no accident: [`Options::sleep`] does, and the transcript stays the same.

use std::cell::Cell;
use std::future::Future;
use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use sync_primitives::Waiter;

use crate::spinning_waiter::SpinningWaiter;
use crate::Transcript;

/// What the two jobs need from a waiter: something to await until done, and
/// a way to say it is done. Both the chapter's waiter and ours have it.
pub trait Waitable {
    /// `await waiter`: completes once the waiter is done.
    fn wait(&self) -> impl Future<Output = ()> + Unpin + '_;

    /// `waiter.done = True`.
    fn set_done(&self);
}

impl Waitable for Waiter {
    fn wait(&self) -> impl Future<Output = ()> + Unpin + '_ {
        Waiter::wait(self)
    }

    fn set_done(&self) {
        Waiter::set_done(self);
    }
}

impl Waitable for SpinningWaiter {
    fn wait(&self) -> impl Future<Output = ()> + Unpin + '_ {
        SpinningWaiter::wait(self)
    }

    fn set_done(&self) {
        self.done.set(true);
    }
}

/// A waiter that counts how many times its waits are polled, for `--stats`.
#[derive(Debug, Default)]
pub struct Counted<W> {
    waiter: W,
    polls: Cell<u64>,
}

impl<W> Counted<W> {
    /// Wraps `waiter`, with no polls counted yet.
    pub fn new(waiter: W) -> Counted<W> {
        Counted {
            waiter,
            polls: Cell::new(0),
        }
    }

    /// How many times the futures returned by [`wait`](Waitable::wait) have
    /// been polled so far, all together.
    pub fn polls(&self) -> u64 {
        self.polls.get()
    }
}

impl<W: Waitable> Waitable for Counted<W> {
    fn wait(&self) -> impl Future<Output = ()> + Unpin + '_ {
        CountPolls {
            inner: self.waiter.wait(),
            polls: &self.polls,
        }
    }

    fn set_done(&self) {
        self.waiter.set_done();
    }
}

/// A future that adds one to `polls` each time it is polled, then polls
/// `inner`.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct CountPolls<'a, F> {
    inner: F,
    polls: &'a Cell<u64>,
}

impl<F: Future + Unpin> Future for CountPolls<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        Pin::new(&mut self.inner).poll(cx)
    }
}

/// The chapter's `wait_job`: prints `start`, waits for the waiter, prints
/// `finished`.
pub async fn wait_job(transcript: &Transcript<'_>, waiter: &impl Waitable) {
    transcript.say("start");
    waiter.wait().await; // wait for count_up_to to be finished
    transcript.say("finished");
}

/// The chapter's `count_up_to`: prints `0` to `n - 1`, letting the other
/// tasks run after each, then sets the waiter done.
///
/// With a zero `sleep` it yields with [`runtime::yield_now`], the chapter's
/// `asyncio.sleep(0)`; otherwise it sleeps that long with
/// [`runtime::sleep`].
pub async fn count_up_to(
    transcript: &Transcript<'_>,
    waiter: &impl Waitable,
    n: u32,
    sleep: Duration,
) {
    for i in 0..n {
        transcript.say(i);
        if sleep.is_zero() {
            runtime::yield_now().await;
        } else {
            runtime::sleep(sleep).await;
        }
    }
    waiter.set_done();
}

/// How to run the [`waiter`](self) demo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `n` of `count_up_to(waiter, n)`: how many numbers to print.
    pub count: u32,
    /// How long `count_up_to` sleeps after each number; zero yields instead.
    pub sleep: Duration,
    /// Use the chapter's [`SpinningWaiter`] instead of
    /// [`sync_primitives::Waiter`].
    pub spinning: bool,
    /// After the transcript, print how many times the wait was polled.
    pub stats: bool,
}

impl Default for Options {
    /// The chapter's run: `count_up_to(waiter, 10)` with `asyncio.sleep(0)`,
    /// on our waiter, without stats.
    fn default() -> Options {
        Options {
            count: 10,
            sleep: Duration::ZERO,
            spinning: false,
            stats: false,
        }
    }
}

/// Runs `wait_job` and `count_up_to` gathered on [`runtime::block_on`],
/// prints the gathered result, and with [`Options::stats`] the number of
/// polls of the wait (`polls of the wait: 2` for ours).
///
/// # Errors
///
/// The first error writing to `out`.
pub fn run(out: &mut impl Write, options: &Options) -> io::Result<()> {
    let transcript = Transcript::new(out);
    let polls = if options.spinning {
        gather_jobs(&transcript, &Counted::new(SpinningWaiter::new()), options)
    } else {
        gather_jobs(&transcript, &Counted::new(Waiter::new()), options)
    };
    if options.stats {
        transcript.say(format_args!("polls of the wait: {polls}"));
    }
    transcript.finish()
}

/// `loop.run_until_complete(asyncio.gather(wait_job(waiter),
/// count_up_to(waiter, n)))`, then prints the result; returns the number of
/// polls of the wait.
fn gather_jobs<W: Waitable>(
    transcript: &Transcript<'_>,
    waiter: &Counted<W>,
    options: &Options,
) -> u64 {
    let result = runtime::block_on(async {
        let (a, b) = runtime::gather!(
            wait_job(transcript, waiter),
            count_up_to(transcript, waiter, options.count, options.sleep)
        );
        [a, b]
    });
    transcript.say(format_args!("{result:?}"));
    waiter.polls()
}
