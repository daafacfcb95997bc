//! [`RwLock`]: a fair (FIFO, phase-fair) async reader-writer lock holding
//! data, like `tokio::sync::RwLock`.
//!
//! It stands on the semaphore's mechanism (`RawSemaphore`), as tokio's
//! does: a reader takes one permit of `MAX_READS` (about half a billion),
//! a writer takes them all. Released permits go to the queued requests
//! oldest first, piecewise, so readers at the head of the line get the lock
//! together, and a writer at the head collects permits as readers leave
//! while holding back everyone behind it.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::loom::{loom_const_fn, UnsafeCell};
use crate::semaphore::{AcquireState, RawSemaphore};

/// How many readers can hold the lock at once; a writer takes them all
/// (tokio's bound).
const MAX_READS: usize = (u32::MAX >> 3) as usize;

/// An async reader-writer lock holding data, like `tokio::sync::RwLock`.
///
/// Many readers or one writer hold it at a time. It is fair: requests are
/// served in the order they were first polled; consecutive readers at the
/// head of the line get the lock together, and a writer in line holds back
/// every reader that came after it, so writers never starve (and
/// [`try_read`](RwLock::try_read) fails while a writer is queued).
/// [`RwLockWriteGuard::downgrade`] keeps the lock read-held and admits the
/// readers queued right behind the writer.
///
/// Cancellation is safe: dropping a queued [`Read`] or [`Write`] leaves
/// the line, passing on what it had been given. There is no poisoning.
///
/// # Examples
///
/// ```
/// use sync_primitives::RwLock;
///
/// let lock = RwLock::new(5);
/// runtime::block_on(async {
///     {
///         let (a, b) = runtime::gather!(lock.read(), lock.read());
///         assert_eq!(*a + *b, 10); // two readers at once
///     }
///     *lock.write().await += 1;
///     assert_eq!(*lock.read().await, 6);
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    semaphore: RawSemaphore,
    data: UnsafeCell<T>,
}

// SAFETY: readers on several threads share `&T` (so `T: Sync`), and a
// writer may get `&mut T` on any thread (so `T: Send`), as for
// `std::sync::RwLock`. `Send` follows from the fields.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    loom_const_fn! {
        /// A new, unlocked lock holding `value`.
        pub fn new(value: T) -> RwLock<T> {
            RwLock {
                semaphore: RawSemaphore::new(MAX_READS),
                data: UnsafeCell::new(value),
            }
        }
    }

    /// Consumes the lock, returning the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Locks for reading, waiting in FIFO order behind earlier requests.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::RwLock;
    ///
    /// let lock = RwLock::new("data");
    /// let guard = runtime::block_on(lock.read());
    /// assert_eq!(*guard, "data");
    /// assert!(lock.try_read().is_some(), "readers share");
    /// assert!(lock.try_write().is_none());
    /// ```
    pub fn read(&self) -> Read<'_, T> {
        Read {
            lock: Some(self),
            state: AcquireState::Idle,
        }
    }

    /// Locks for writing, waiting in FIFO order behind earlier requests.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::RwLock;
    ///
    /// let lock = RwLock::new(Vec::new());
    /// runtime::block_on(async {
    ///     lock.write().await.push(1);
    /// });
    /// assert_eq!(lock.into_inner(), [1]);
    /// ```
    pub fn write(&self) -> Write<'_, T> {
        Write {
            lock: Some(self),
            state: AcquireState::Idle,
        }
    }

    /// [`read`](RwLock::read) for a lock behind an `Arc`: the guard owns a
    /// clone of the `Arc`, so it can move into a task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sync_primitives::RwLock;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let guard = runtime::block_on(lock.clone().read_owned());
    /// std::thread::spawn(move || assert_eq!(*guard, 1)).join().unwrap();
    /// ```
    pub fn read_owned(self: Arc<Self>) -> ReadOwned<T> {
        ReadOwned {
            lock: Some(self),
            state: AcquireState::Idle,
        }
    }

    /// [`write`](RwLock::write) for a lock behind an `Arc`.
    pub fn write_owned(self: Arc<Self>) -> WriteOwned<T> {
        WriteOwned {
            lock: Some(self),
            state: AcquireState::Idle,
        }
    }

    /// Locks for reading if no writer holds the lock and nobody is queued.
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        self.semaphore
            .try_acquire(1)
            .ok()
            .map(|()| RwLockReadGuard::new(self))
    }

    /// Locks for writing if nobody holds the lock and nobody is queued.
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        self.semaphore
            .try_acquire(MAX_READS)
            .ok()
            .map(|()| RwLockWriteGuard::new(self))
    }

    /// The data, through a unique borrow: no locking needed.
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no guard exists, so this is the only
        // access to the data.
        self.data.with_mut(|data| unsafe { &mut *data })
    }

    /// `&T`, for a read guard.
    ///
    /// # Safety
    ///
    /// The caller holds at least one read permit for as long as the
    /// reference lives.
    unsafe fn data_ref(&self) -> &T {
        // SAFETY: a read permit excludes writers (they need every permit),
        // as the caller promises to hold one.
        self.data.with(|data| unsafe { &*data })
    }

    /// `&mut T`, for a write guard.
    ///
    /// # Safety
    ///
    /// The caller holds every permit for as long as the reference lives,
    /// and makes no other reference to the data meanwhile.
    #[allow(clippy::mut_from_ref)]
    unsafe fn data_mut(&self) -> &mut T {
        // SAFETY: all permits exclude every other guard, as the caller
        // promises to hold them, and the borrow is unique by its promise.
        self.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    /// Shows the data if it can be read without waiting, `<locked>`
    /// otherwise. Never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Defines a future of [`RwLock`] that acquires `$permits` permits and
/// outputs `$guard`: the four of them differ only in these and in how they
/// hold the lock.
macro_rules! acquire_future {
    (
        $(#[$meta:meta])*
        $name:ident<$($lt:lifetime,)? T>, $lock:ty, $permits:expr, $guard:ty, |$l:ident| $make:expr
    ) => {
        $(#[$meta])*
        ///
        /// Dropping it while queued leaves the line and passes on what it
        /// had been given.
        #[must_use = "futures do nothing unless you `.await` or poll them"]
        pub struct $name<$($lt,)? T: ?Sized> {
            /// `None` once the guard has been returned.
            lock: Option<$lock>,
            state: AcquireState,
        }

        impl<$($lt,)? T: ?Sized> Future for $name<$($lt,)? T> {
            type Output = $guard;

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<$guard> {
                let this = self.get_mut();
                let lock = this
                    .lock
                    .as_ref()
                    .expect(concat!("`", stringify!($name), "` polled after it completed"));
                match lock.semaphore.poll_acquire($permits, &mut this.state, cx) {
                    Poll::Ready(Ok(())) => {
                        let $l = this.lock.take().expect("checked above");
                        Poll::Ready($make)
                    }
                    Poll::Ready(Err(_)) => unreachable!("an RwLock is never closed"),
                    Poll::Pending => Poll::Pending,
                }
            }
        }

        impl<$($lt,)? T: ?Sized> Drop for $name<$($lt,)? T> {
            fn drop(&mut self) {
                if let Some(lock) = &self.lock {
                    lock.semaphore.abandon($permits, self.state);
                }
            }
        }

        impl<$($lt,)? T: ?Sized> fmt::Debug for $name<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("state", &self.state)
                    .finish_non_exhaustive()
            }
        }
    };
}

acquire_future! {
    /// The future returned by [`RwLock::read`].
    Read<'a, T>, &'a RwLock<T>, 1, RwLockReadGuard<'a, T>, |lock| RwLockReadGuard::new(lock)
}

acquire_future! {
    /// The future returned by [`RwLock::write`].
    Write<'a, T>, &'a RwLock<T>, MAX_READS, RwLockWriteGuard<'a, T>,
    |lock| RwLockWriteGuard::new(lock)
}

acquire_future! {
    /// The future returned by [`RwLock::read_owned`].
    ReadOwned<T>, Arc<RwLock<T>>, 1, OwnedRwLockReadGuard<T>,
    |lock| OwnedRwLockReadGuard { lock, _data: PhantomData }
}

acquire_future! {
    /// The future returned by [`RwLock::write_owned`].
    WriteOwned<T>, Arc<RwLock<T>>, MAX_READS, OwnedRwLockWriteGuard<T>,
    |lock| OwnedRwLockWriteGuard { lock, _data: PhantomData }
}

/// Shared access to a read-locked [`RwLock`]'s data; gives its read back
/// when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _data: PhantomData<&'a T>,
}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    fn new(lock: &'a RwLock<T>) -> Self {
        Self {
            lock,
            _data: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read permit while it lives, and the
        // borrow cannot outlive the guard.
        unsafe { self.lock.data_ref() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.semaphore.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Unique access to a write-locked [`RwLock`]'s data; unlocks when
/// dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _data: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    fn new(lock: &'a RwLock<T>) -> Self {
        Self {
            lock,
            _data: PhantomData,
        }
    }

    /// Turns the write lock into a read lock without letting a writer in
    /// between, and admits the readers queued right behind it (up to the
    /// next queued writer).
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::RwLock;
    ///
    /// let lock = RwLock::new(1);
    /// runtime::block_on(async {
    ///     let mut writer = lock.write().await;
    ///     *writer += 1;
    ///     let reader = writer.downgrade();
    ///     assert_eq!(*reader, 2);
    ///     assert!(lock.try_read().is_some(), "other readers get in");
    ///     assert!(lock.try_write().is_none());
    /// });
    /// ```
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let this = ManuallyDrop::new(self);
        // Keep one read, give back the rest: to the queue first, so the
        // readers at its head get in.
        this.lock.semaphore.release(MAX_READS - 1);
        RwLockReadGuard::new(this.lock)
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit while it lives; the borrow
        // cannot outlive the guard, nor coexist with a `deref_mut` one.
        unsafe { self.lock.data_ref() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this borrow unique.
        unsafe { self.lock.data_mut() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.semaphore.release(MAX_READS);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Shared access to a read-locked [`RwLock`] behind an `Arc`, owning a
/// clone of the `Arc`; gives its read back when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
    _data: PhantomData<T>,
}

impl<T: ?Sized> OwnedRwLockReadGuard<T> {
    /// The lock this guard reads.
    #[must_use]
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}

impl<T: ?Sized> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: as for `RwLockReadGuard`.
        unsafe { self.lock.data_ref() }
    }
}

impl<T: ?Sized> Drop for OwnedRwLockReadGuard<T> {
    fn drop(&mut self) {
        self.lock.semaphore.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Unique access to a write-locked [`RwLock`] behind an `Arc`, owning a
/// clone of the `Arc`; unlocks when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
    _data: PhantomData<T>,
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// The lock this guard writes.
    #[must_use]
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }

    /// [`RwLockWriteGuard::downgrade`] for an owned guard.
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let this = ManuallyDrop::new(self);
        this.lock.semaphore.release(MAX_READS - 1);
        // SAFETY: `this` is never used or dropped again (it is a
        // `ManuallyDrop`), so the `Arc` is moved out of it exactly once.
        let lock = unsafe { std::ptr::read(&this.lock) };
        OwnedRwLockReadGuard {
            lock,
            _data: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: as for `RwLockWriteGuard`.
        unsafe { self.lock.data_ref() }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `RwLockWriteGuard`.
        unsafe { self.lock.data_mut() }
    }
}

impl<T: ?Sized> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        self.lock.semaphore.release(MAX_READS);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
