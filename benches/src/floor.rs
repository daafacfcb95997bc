//! Lower bounds ("floors") for the executor benchmarks: the same futures run
//! by the least a scheduler can do, with a no-op waker and no join handles.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

/// Boxes `n` `async {}` futures, pushes them through a [`VecDeque`] and polls
/// each once with a no-op waker: the floor of `spawn_many` (a task
/// allocation and a queue round trip per task, nothing else).
///
/// ```
/// benches::floor::spawn_floor(100);
/// ```
pub fn spawn_floor(n: usize) {
    let mut queue: VecDeque<Pin<Box<dyn Future<Output = ()>>>> = VecDeque::with_capacity(n);
    for _ in 0..n {
        queue.push_back(Box::pin(async {}));
    }
    let mut cx = Context::from_waker(Waker::noop());
    while let Some(mut task) = queue.pop_front() {
        let done = task.as_mut().poll(&mut cx).is_ready();
        debug_assert!(done, "an `async {{}}` block is ready on its first poll");
    }
}

/// Polls `fut` with a no-op waker until it is ready, re-polling at once
/// whenever it is pending: the floor of `yield_many` (the future's own cost
/// with no scheduler in between).
///
/// ```
/// let out = benches::floor::busy_poll(async {
///     benches::yield_once().await;
///     7
/// });
/// assert_eq!(out, 7);
/// ```
pub fn busy_poll<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_poll_runs_through_yields() {
        let n = busy_poll(async {
            let mut n = 0;
            for _ in 0..10 {
                crate::yield_once().await;
                n += 1;
            }
            n
        });
        assert_eq!(n, 10);
    }

    #[test]
    fn spawn_floor_handles_zero_and_many() {
        spawn_floor(0);
        spawn_floor(1_000);
    }
}
