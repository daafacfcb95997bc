//! Wakers for tests: one that counts its wake-ups, one that logs its id,
//! one that runs a hook when its last clone is dropped.

use parking_lot::Mutex;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

/// A waker that counts its wake-ups (`wake` and `wake_by_ref` alike).
///
/// # Examples
///
/// ```
/// let (counter, waker) = test_util::CountingWaker::new();
/// waker.wake_by_ref();
/// waker.wake();
/// assert_eq!(counter.wakes(), 2);
/// ```
#[derive(Debug, Default)]
pub struct CountingWaker {
    wakes: AtomicUsize,
}

impl CountingWaker {
    /// A new counter (at zero) and a waker that counts into it.
    pub fn new() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(Arc::clone(&counter));
        (counter, waker)
    }

    /// The wake-ups so far.
    pub fn wakes(&self) -> usize {
        // SeqCst: a test reads the count after the wake-ups it waits for,
        // possibly made on other threads it has joined or synchronised with.
        self.wakes.load(Ordering::SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker that appends its id to a shared log each time it is woken.
///
/// # Examples
///
/// ```
/// let (wakers, log) = test_util::recording_wakers(3);
/// wakers[2].wake_by_ref();
/// wakers[0].wake_by_ref();
/// assert_eq!(*log.lock(), vec![2, 0]);
/// ```
pub struct RecordingWaker {
    id: usize,
    log: Arc<Mutex<Vec<usize>>>,
}

impl RecordingWaker {
    /// A waker that appends `id` to `log` when woken.
    pub fn waker(id: usize, log: &Arc<Mutex<Vec<usize>>>) -> Waker {
        Waker::from(Arc::new(RecordingWaker {
            id,
            log: Arc::clone(log),
        }))
    }
}

impl fmt::Debug for RecordingWaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingWaker")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Wake for RecordingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.log.lock().push(self.id);
    }
}

/// `n` [`RecordingWaker`]s with ids `0..n`, logging into one shared log.
pub fn recording_wakers(n: usize) -> (Vec<Waker>, Arc<Mutex<Vec<usize>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let wakers = (0..n).map(|id| RecordingWaker::waker(id, &log)).collect();
    (wakers, log)
}

/// A waker that does nothing when woken and runs its hook when its last
/// clone is dropped, as a task's destructor may (taking the lock of the
/// primitive the task waited on, say). Made by [`drop_hook_waker`].
pub struct DropHook<F: Fn() + Send + Sync + 'static>(F);

impl<F: Fn() + Send + Sync + 'static> fmt::Debug for DropHook<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DropHook").finish_non_exhaustive()
    }
}

impl<F: Fn() + Send + Sync + 'static> Wake for DropHook<F> {
    fn wake(self: Arc<Self>) {}
}

impl<F: Fn() + Send + Sync + 'static> Drop for DropHook<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// A [`DropHook`] waker running `hook` on its last drop.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
///
/// let dropped = Arc::new(AtomicBool::new(false));
/// let flag = Arc::clone(&dropped);
/// let waker = test_util::drop_hook_waker(move || flag.store(true, Ordering::SeqCst));
/// let clone = waker.clone();
/// drop(waker);
/// assert!(!dropped.load(Ordering::SeqCst));
/// drop(clone);
/// assert!(dropped.load(Ordering::SeqCst));
/// ```
pub fn drop_hook_waker(hook: impl Fn() + Send + Sync + 'static) -> Waker {
    Waker::from(Arc::new(DropHook(hook)))
}
