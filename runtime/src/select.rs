//! [`select!`]: wait for the first of several futures, as tokio's
//! `select!` does.
//!
//! The macro parses its branches in the proc-macro crate
//! (`runtime-macros/src/select.rs`, which documents the expansion); this
//! file holds the front end and the random start the expansion asks for.

/// Waits on several futures at once and runs the handler of the first one
/// that completes (asyncio's `wait(..., return_when=FIRST_COMPLETED)`), with
/// tokio's syntax:
///
/// ```text
/// runtime::select! {
///     [biased;]
///     <pattern> = <future> [, if <precondition>] => <handler>,
///     ...
///     [else => <handler>]
/// }
/// ```
///
/// * Every precondition is evaluated first; a branch whose precondition is
///   `false` is disabled (its future is still created, never polled).
/// * The enabled futures are polled, starting from a random branch each
///   time the `select!` runs, so that of several always-ready branches each
///   wins its share; with `biased;`, in written order.
/// * The first future to complete whose output matches its pattern wins:
///   the other futures are **dropped**, then the pattern binds and the
///   handler runs. A future whose output is refused by its pattern disables
///   its branch, and the others go on.
/// * If every branch is disabled, the `else` handler runs; without `else`,
///   `select!` panics.
///
/// The futures need be neither `Unpin` nor fused (a new one is created at
/// each evaluation); anything `IntoFuture` works. Patterns may use `mut` and
/// `ref mut`. Up to 64 branches. `select!` needs no runtime: it works inside
/// any executor's task, like [`gather!`](crate::gather!). It must be used
/// inside `async` code.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// runtime::block_on(async {
///     let winner = runtime::select! {
///         _ = runtime::sleep(Duration::from_secs(60)) => "slow",
///         v = async { 7 } => if v == 7 { "fast" } else { "wrong" },
///     };
///     assert_eq!(winner, "fast");
/// });
/// ```
///
/// Patterns that refuse, preconditions, and `else`:
///
/// ```
/// runtime::block_on(async {
///     let check_b = false;
///     let out = runtime::select! {
///         Some(x) = async { None::<u32> } => x,
///         y = async { 2 }, if check_b => y,
///         else => 0,
///     };
///     assert_eq!(out, 0);
/// });
/// ```
///
/// In a loop, with a future kept across iterations (pinned, and borrowed so
/// that each `select!` polls the same one):
///
/// ```
/// use std::time::Duration;
///
/// runtime::block_on(async {
///     let deadline = runtime::sleep(Duration::from_millis(20));
///     let mut deadline = std::pin::pin!(deadline);
///     let mut ticks = 0;
///     loop {
///         runtime::select! {
///             _ = &mut deadline => break,
///             _ = runtime::sleep(Duration::from_millis(1)) => ticks += 1,
///         }
///     }
///     assert!(ticks >= 1);
/// });
/// ```
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__select::select! { ($crate) $($tokens)* }
    };
}

/// What the expansion of [`select!`] uses. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use runtime_macros::select;

    use std::cell::Cell;

    thread_local! {
        /// A xorshift state per thread; seeded from the thread-local's
        /// address and the time, so threads and runs differ.
        static RNG: Cell<u64> = const { Cell::new(0) };
    }

    /// A random branch index in `0..n` (`n > 0`), where the polling of a
    /// non-`biased` `select!` starts.
    pub fn start(n: usize) -> usize {
        RNG.try_with(|rng| {
            let mut x = rng.get();
            if x == 0 {
                x = seed(rng);
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            rng.set(x);
            // The high bits are the better mixed ones.
            ((x >> 32) as usize) % n
        })
        // During thread-local destruction: no rotation, still correct.
        .unwrap_or(0)
    }

    fn seed(rng: &Cell<u64>) -> u64 {
        let address = rng as *const Cell<u64> as u64;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as u64);
        // Never 0, the fixed point of xorshift.
        (address.rotate_left(17) ^ nanos.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1
    }
}
