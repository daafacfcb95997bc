//! `gather`, `gather!` and `try_gather` under other executors
//! (`futures::executor`, tokio, async-executor) and polled by hand: order,
//! the chapter's pair, first error, per-child wake-ups, drops and panics.
//! `tests/gather_runtime.rs` runs the same scenarios on our own runtime.
#![cfg(not(loom))]

mod common;

use common::{chapter_lines, count_up_to, wait_job};
use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use runtime::{gather, try_gather, Gather, TryGather};
use sync_primitives::Waiter;
use test_util::{poll_with, yield_once, CountingWaker};

// ---- helpers -------------------------------------------------------------

/// Counts its drops.
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A child that is pending until told otherwise: counts its polls, keeps
/// the last waker it was polled with, holds a drop guard.
struct Probe {
    polls: Arc<AtomicUsize>,
    waker: Arc<Mutex<Option<Waker>>>,
    output: Arc<Mutex<Option<Result<usize, usize>>>>,
    _guard: DropGuard,
}

#[derive(Clone)]
struct ProbeHandle {
    polls: Arc<AtomicUsize>,
    waker: Arc<Mutex<Option<Waker>>>,
    output: Arc<Mutex<Option<Result<usize, usize>>>>,
}

impl ProbeHandle {
    fn polls(&self) -> usize {
        self.polls.load(Ordering::SeqCst)
    }

    fn waker(&self) -> Waker {
        self.waker.lock().unwrap().clone().expect("polled once")
    }

    fn finish(&self, output: Result<usize, usize>) {
        *self.output.lock().unwrap() = Some(output);
        self.waker().wake();
    }
}

fn probe(dropped: &Arc<AtomicUsize>) -> (Probe, ProbeHandle) {
    let handle = ProbeHandle {
        polls: Arc::default(),
        waker: Arc::default(),
        output: Arc::default(),
    };
    let probe = Probe {
        polls: handle.polls.clone(),
        waker: handle.waker.clone(),
        output: handle.output.clone(),
        _guard: DropGuard(dropped.clone()),
    };
    (probe, handle)
}

impl Future for Probe {
    type Output = Result<usize, usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if let Some(output) = self.output.lock().unwrap().take() {
            return Poll::Ready(output);
        }
        let mut waker = self.waker.lock().unwrap();
        match &*waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

/// Runs `make()` on futures' `block_on`, tokio's two runtimes and
/// async-executor, checking each result.
fn on_every_executor<F, Fut>(make: F, check: impl Fn(Fut::Output))
where
    F: Fn() -> Fut,
    Fut: Future,
{
    check(futures::executor::block_on(make()));

    let tokio_ct = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    check(tokio_ct.block_on(make()));

    let tokio_mt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    check(tokio_mt.block_on(make()));

    let ex = async_executor::LocalExecutor::new();
    check(futures::executor::block_on(ex.run(ex.spawn(make()))));
}

// ---- order ---------------------------------------------------------------

/// Child `i` of `n` yields `n - i` times, so they finish in reverse order.
async fn reverse_finishers(n: usize) -> (Vec<usize>, Vec<usize>) {
    let finished = Mutex::new(Vec::new());
    let outputs = gather((0..n).map(|i| {
        let finished = &finished;
        async move {
            for _ in 0..n - i {
                yield_once().await;
            }
            finished.lock().unwrap().push(i);
            i
        }
    }))
    .await;
    (outputs, finished.into_inner().unwrap())
}

#[test]
fn input_order_kept_when_children_finish_in_reverse() {
    on_every_executor(
        || reverse_finishers(100),
        |(outputs, finished)| {
            assert_eq!(outputs, (0..100).collect::<Vec<_>>());
            assert_eq!(finished, (0..100).rev().collect::<Vec<_>>());
        },
    );
}

#[test]
fn input_order_kept_when_woken_from_another_thread_in_reverse() {
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..64)
        .map(|_| futures::channel::oneshot::channel())
        .unzip();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let task = rt.spawn(gather(receivers));
    let sender = std::thread::spawn(move || {
        for (i, tx) in senders.into_iter().enumerate().rev() {
            tx.send(i * 10).unwrap();
            std::thread::yield_now();
        }
    });
    let outputs = rt.block_on(task).unwrap();
    sender.join().unwrap();
    let outputs: Vec<usize> = outputs.into_iter().map(Result::unwrap).collect();
    assert_eq!(outputs, (0..64).map(|i| i * 10).collect::<Vec<_>>());
}

// ---- the chapter ---------------------------------------------------------

#[test]
fn chapter_wait_job_and_count_up_to() {
    on_every_executor(
        || async {
            let waiter = Waiter::new();
            let log = Mutex::new(Vec::new());
            let results = runtime::gather!(wait_job(&waiter, &log), count_up_to(&waiter, 10, &log));
            (results, log.into_inner().unwrap())
        },
        |(results, lines)| {
            assert_eq!(results, ((), ()));
            assert_eq!(lines, chapter_lines());
        },
    );
}

#[test]
fn chapter_with_gather_of_boxed_futures() {
    // The same pair through the iterator form, as asyncio's list result.
    let waiter = Waiter::new();
    let log = Mutex::new(Vec::new());
    let futs: Vec<Pin<Box<dyn Future<Output = ()>>>> = vec![
        Box::pin(wait_job(&waiter, &log)),
        Box::pin(count_up_to(&waiter, 10, &log)),
    ];
    assert_eq!(futures::executor::block_on(gather(futs)), [(), ()]);
    assert_eq!(log.into_inner().unwrap(), chapter_lines());
}

// ---- try_gather ----------------------------------------------------------

#[test]
fn try_gather_stops_at_first_error_on_first_poll_among_10_000() {
    let n = 10_000;
    let failing = 4_321;
    let dropped = Arc::new(AtomicUsize::new(0));
    let (probes, handles): (Vec<_>, Vec<_>) = (0..n).map(|_| probe(&dropped)).unzip();
    *handles[failing].output.lock().unwrap() = Some(Err(failing));
    let mut all = try_gather(probes);
    let (parent_wakes, parent) = CountingWaker::new();
    assert_eq!(poll_with(&mut all, &parent), Poll::Ready(Err(failing)));
    // Polled in input order up to the failing child, none after it...
    assert!(handles[..=failing].iter().all(|h| h.polls() == 1));
    assert!(handles[failing + 1..].iter().all(|h| h.polls() == 0));
    // ...and every child is dropped before the `Err` is returned, while the
    // `TryGather` itself still exists.
    assert_eq!(dropped.load(Ordering::SeqCst), n);
    // The wakers children kept are harmless now.
    handles[0].waker().wake();
    assert_eq!(parent_wakes.wakes(), 0);
    drop(all);
    assert_eq!(dropped.load(Ordering::SeqCst), n);
}

#[test]
fn try_gather_stops_at_first_error_after_a_wake_among_10_000() {
    let n = 10_000;
    let dropped = Arc::new(AtomicUsize::new(0));
    let (probes, handles): (Vec<_>, Vec<_>) = (0..n).map(|_| probe(&dropped)).unzip();
    let mut all = try_gather(probes);
    let (_, parent) = CountingWaker::new();
    assert!(poll_with(&mut all, &parent).is_pending());
    // Some succeed, then one fails, then one more succeeds in the same batch.
    handles[10].finish(Ok(10));
    assert!(poll_with(&mut all, &parent).is_pending());
    handles[7_777].finish(Err(7_777));
    handles[20].finish(Ok(20));
    assert_eq!(poll_with(&mut all, &parent), Poll::Ready(Err(7_777)));
    assert_eq!(dropped.load(Ordering::SeqCst), n);
    assert_eq!(
        handles[20].polls(),
        1,
        "woken after the failure: not polled"
    );
    let polled_again = handles
        .iter()
        .enumerate()
        .filter(|(i, h)| h.polls() != 1 && ![10, 7_777].contains(i))
        .count();
    assert_eq!(polled_again, 0);
    assert_eq!(handles[10].polls(), 2);
    assert_eq!(handles[7_777].polls(), 2);
}

#[test]
fn try_gather_all_ok_keeps_order() {
    on_every_executor(
        || {
            try_gather((0..50u32).map(|i| async move {
                for _ in 0..(50 - i) % 3 {
                    yield_once().await;
                }
                Ok::<_, String>(i)
            }))
        },
        |result| assert_eq!(result, Ok((0..50).collect::<Vec<_>>())),
    );
}

#[test]
fn try_gather_error_under_executors() {
    on_every_executor(
        || {
            try_gather((0..10u32).map(|i| async move {
                yield_once().await;
                if i == 6 {
                    Err(format!("child {i}"))
                } else {
                    Ok(i)
                }
            }))
        },
        |result| assert_eq!(result, Err("child 6".to_string())),
    );
}

// ---- per-child wake-ups --------------------------------------------------

#[test]
fn one_child_woken_1_000_times_among_10_000_is_the_only_one_repolled() {
    let n = 10_000;
    let busy = 5_000;
    let dropped = Arc::new(AtomicUsize::new(0));
    let (probes, handles): (Vec<_>, Vec<_>) = (0..n).map(|_| probe(&dropped)).unzip();
    let mut all = gather(probes);
    let (parent_wakes, parent) = CountingWaker::new();
    assert!(poll_with(&mut all, &parent).is_pending());
    assert!(handles.iter().all(|h| h.polls() == 1));
    let waker = handles[busy].waker();
    for round in 1..=1_000 {
        waker.wake_by_ref();
        assert_eq!(parent_wakes.wakes(), round);
        assert!(poll_with(&mut all, &parent).is_pending());
    }
    assert_eq!(handles[busy].polls(), 1_001);
    let others_polled_again = handles
        .iter()
        .enumerate()
        .filter(|&(i, h)| i != busy && h.polls() != 1)
        .count();
    assert_eq!(others_polled_again, 0);
    // A poll without any wake polls nobody.
    assert!(poll_with(&mut all, &parent).is_pending());
    assert_eq!(handles[busy].polls(), 1_001);
    drop(all);
    assert_eq!(dropped.load(Ordering::SeqCst), n);
}

#[test]
fn gather_macro_repolls_only_the_woken_child() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let (a, ha) = probe(&dropped);
    let (b, hb) = probe(&dropped);
    let (c, hc) = probe(&dropped);
    let mut fut = pin!(async { runtime::gather!(a, b, c) });
    let (_, parent) = CountingWaker::new();
    let mut cx = Context::from_waker(&parent);
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    for _ in 0..100 {
        hb.waker().wake();
        assert!(fut.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!([ha.polls(), hb.polls(), hc.polls()], [1, 101, 1]);
    hc.finish(Ok(3));
    ha.finish(Ok(1));
    hb.finish(Err(2));
    assert_eq!(
        fut.as_mut().poll(&mut cx),
        Poll::Ready((Ok(1), Err(2), Ok(3)))
    );
    assert_eq!([ha.polls(), hb.polls(), hc.polls()], [2, 102, 2]);
}

// ---- edge cases ----------------------------------------------------------

#[test]
fn zero_futures_ready_at_once() {
    let (parent_wakes, parent) = CountingWaker::new();
    let mut none = gather(Vec::<std::future::Ready<u8>>::new());
    assert_eq!(poll_with(&mut none, &parent), Poll::Ready(vec![]));
    let mut none = try_gather(Vec::<std::future::Ready<Result<u8, ()>>>::new());
    assert_eq!(poll_with(&mut none, &parent), Poll::Ready(Ok(vec![])));
    let mut unit = pin!(async { runtime::gather!() });
    assert_eq!(
        unit.as_mut().poll(&mut Context::from_waker(&parent)),
        Poll::Ready(())
    );
    assert_eq!(parent_wakes.wakes(), 0);
}

#[test]
fn panic_in_a_child_propagates() {
    let futs: Vec<Pin<Box<dyn Future<Output = u8> + Send>>> = vec![
        Box::pin(async { 1 }),
        Box::pin(async {
            yield_once().await;
            panic!("child panicked")
        }),
    ];
    let err = catch_unwind(AssertUnwindSafe(|| {
        futures::executor::block_on(gather(futs))
    }))
    .unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"child panicked"));

    // Under tokio, the panic fails the task that awaits the gather.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let join = rt.block_on(rt.spawn(async {
        let ((), ()) = runtime::gather!(yield_once(), async { panic!("in gather!") });
    }));
    assert!(join.unwrap_err().is_panic());

    // And `try_gather` too.
    let err = catch_unwind(|| {
        futures::executor::block_on(try_gather([async {
            if true {
                panic!("try");
            }
            Err::<u8, u8>(0)
        }]))
    });
    assert!(err.is_err());
}

#[test]
fn wakers_used_after_the_gather_is_dropped_are_harmless() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let (probes, handles): (Vec<_>, Vec<_>) = (0..8).map(|_| probe(&dropped)).unzip();
    let (parent_wakes, parent) = CountingWaker::new();
    let mut all = gather(probes);
    assert!(poll_with(&mut all, &parent).is_pending());
    let wakers: Vec<Waker> = handles.iter().map(ProbeHandle::waker).collect();
    drop(all);
    drop(handles); // the probes' own clones: the block now lives by `wakers`
    assert_eq!(dropped.load(Ordering::SeqCst), 8);
    let threads: Vec<_> = wakers
        .into_iter()
        .map(|w| {
            std::thread::spawn(move || {
                w.wake_by_ref();
                let clone = w.clone();
                w.wake();
                drop(clone);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(parent_wakes.wakes(), 0);
}

#[test]
fn wakers_used_after_completion_are_harmless() {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let out = futures::executor::block_on(gather((0..4).map(|i| {
        let kept = kept.clone();
        async move {
            poll_fn(|cx| {
                kept.lock().unwrap().push(cx.waker().clone());
                Poll::Ready(())
            })
            .await;
            yield_once().await;
            i
        }
    })));
    assert_eq!(out, [0, 1, 2, 3]);
    for w in kept.lock().unwrap().drain(..) {
        std::thread::spawn(move || w.wake()).join().unwrap();
    }
}

#[test]
fn dropping_a_gather_drops_every_child_and_output_once() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let futs: Vec<Pin<Box<dyn Future<Output = DropGuard>>>> = (0..10)
        .map(|i| {
            let guard = DropGuard(dropped.clone());
            let out = DropGuard(dropped.clone());
            Box::pin(async move {
                let _guard = guard;
                if i % 2 == 0 {
                    std::future::pending::<()>().await;
                }
                out
            }) as Pin<Box<dyn Future<Output = DropGuard>>>
        })
        .collect();
    let mut all = gather(futs);
    let (_, parent) = CountingWaker::new();
    assert!(poll_with(&mut all, &parent).is_pending());
    // The five finished children dropped their futures (guards), not yet
    // their outputs.
    assert_eq!(dropped.load(Ordering::SeqCst), 5);
    drop(all);
    assert_eq!(dropped.load(Ordering::SeqCst), 20);
}

// ---- the API's shape -----------------------------------------------------

#[test]
fn gather_macro_mixed_types_many_arguments_borrowing_locals() {
    let text = String::from("borrowed");
    let count = Cell::new(0);
    let bump = || {
        let count = &count;
        async move {
            yield_once().await;
            count.set(count.get() + 1);
        }
    };
    let out = futures::executor::block_on(async {
        runtime::gather!(
            async { 1u8 },
            async { "two" },
            std::future::ready(3.0f64),
            async { text.len() },
            bump(),
            bump(),
            async { Some('x') },
            async { vec![8] },
            std::future::ready(9i64),
            async { (10, 10) },
            bump(),
            async { 12u128 },
            async { text.as_str() },
            async {
                yield_once().await;
                14u16
            },
        )
    });
    assert_eq!(out.0, 1);
    assert_eq!(out.1, "two");
    assert_eq!(out.2, 3.0);
    assert_eq!(out.3, 8);
    assert_eq!(out.6, Some('x'));
    assert_eq!(out.7, [8]);
    assert_eq!(out.8, 9);
    assert_eq!(out.9, (10, 10));
    assert_eq!(out.11, 12);
    assert_eq!(out.12, "borrowed");
    assert_eq!(out.13, 14);
    assert_eq!(count.get(), 3);
}

#[test]
fn gather_macro_accepts_into_future_and_trailing_comma() {
    let waiter = Waiter::new();
    waiter.set_done();
    let ((), one) = futures::executor::block_on(async { runtime::gather!(&waiter, async { 1 },) });
    assert_eq!(one, 1);
}

#[test]
fn futures_using_gather_are_send_and_run_on_multi_thread_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let handle = rt.spawn(async {
        let (a, b) = runtime::gather!(
            async {
                yield_once().await;
                1
            },
            gather((0..10).map(|i| async move { i * 2 })),
        );
        let c = try_gather((0..3).map(|i| async move { Ok::<_, ()>(i) })).await;
        (a, b, c)
    });
    let (a, b, c) = rt.block_on(handle).unwrap();
    assert_eq!(a, 1);
    assert_eq!(b, (0..10).map(|i| i * 2).collect::<Vec<_>>());
    assert_eq!(c, Ok(vec![0, 1, 2]));
}

#[test]
fn collect_into_gather_and_try_gather() {
    let all: Gather<_> = (0..5).map(std::future::ready).collect();
    assert_eq!(futures::executor::block_on(all), [0, 1, 2, 3, 4]);
    let all: TryGather<_> = (0..5).map(|i| std::future::ready(Ok::<_, ()>(i))).collect();
    assert_eq!(futures::executor::block_on(all), Ok(vec![0, 1, 2, 3, 4]));
}

#[test]
fn nested_gathers() {
    let out = futures::executor::block_on(gather((0..5).map(|i| {
        gather((0..i).map(|j| async move {
            yield_once().await;
            j
        }))
    })));
    assert_eq!(
        out,
        (0..5).map(|i| (0..i).collect()).collect::<Vec<Vec<_>>>()
    );
}

#[test]
fn debug_shows_progress() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let (a, _ha) = probe(&dropped);
    let mut all = gather(vec![
        Box::pin(a) as Pin<Box<dyn Future<Output = _> + Send>>,
        Box::pin(std::future::ready(Ok(1usize))),
    ]);
    assert_eq!(format!("{all:?}"), "Gather { len: 2, remaining: 2 }");
    let (_, parent) = CountingWaker::new();
    assert!(poll_with(&mut all, &parent).is_pending());
    assert_eq!(format!("{all:?}"), "Gather { len: 2, remaining: 1 }");
    let t = try_gather([std::future::ready(Ok::<u8, ()>(1))]);
    assert_eq!(format!("{t:?}"), "TryGather { len: 1, remaining: 1 }");
}

#[allow(dead_code)]
fn auto_traits() {
    fn send<T: Send>(_: &T) {}
    fn sync<T: Sync>(_: &T) {}
    fn unpin<T: Unpin>(_: &T) {}
    let g = gather([async { 1 }]);
    send(&g);
    sync(&g);
    unpin(&g);
    let t = try_gather([async { Ok::<u8, String>(1) }]);
    send(&t);
    sync(&t);
    unpin(&t);
}

// ---- regressions (issue 10) ----------------------------------------------

/// Issue 10, bug 3: a `Gather` polled again after a child panicked must not
/// lose the wakes that arrived before the panic, nor any later one.
#[test]
fn wake_after_a_caught_child_panic_reaches_the_parent() {
    let kept: Arc<Mutex<Option<Waker>>> = Arc::default();
    let polls = Arc::new(AtomicUsize::new(0));
    let self_waking: Pin<Box<dyn Future<Output = ()> + Send>> = {
        let kept = kept.clone();
        let polls = polls.clone();
        Box::pin(poll_fn(move |cx| {
            // Wakes itself on its first poll only, and keeps its waker.
            if polls.fetch_add(1, Ordering::SeqCst) == 0 {
                cx.waker().wake_by_ref();
            }
            *kept.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }))
    };
    let mut panicked = false;
    let panics_once: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(poll_fn(move |_| {
        if !std::mem::replace(&mut panicked, true) {
            panic!("child 1 panics once");
        }
        Poll::Pending
    }));
    let (parent_wakes, parent) = CountingWaker::new();
    let mut all = gather(vec![self_waking, panics_once]);
    let err = catch_unwind(AssertUnwindSafe(|| poll_with(&mut all, &parent))).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"child 1 panics once"));
    // The next poll starts over: every child is polled again.
    assert!(poll_with(&mut all, &parent).is_pending());
    assert_eq!(polls.load(Ordering::SeqCst), 2);
    // A wake from outside now reaches the parent, and re-polls child 0.
    let before = parent_wakes.wakes();
    let waker = kept.lock().unwrap().take().unwrap();
    std::thread::spawn(move || waker.wake()).join().unwrap();
    assert_eq!(parent_wakes.wakes(), before + 1, "wake lost");
    assert!(poll_with(&mut all, &parent).is_pending());
    assert_eq!(polls.load(Ordering::SeqCst), 3);
}

/// Wakers whose `clone` returns a fresh data pointer, with a pool of
/// cells to point at (a bump index), so a test can reuse the address of a
/// dropped waker at will, as an allocator might.
mod fresh_wakers {
    use std::ptr;
    use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
    use std::task::{RawWaker, RawWakerVTable, Waker};

    /// Each cell says which counter its waker bumps.
    pub struct Cell(AtomicPtr<AtomicUsize>);

    const CELLS: usize = 1024;
    static POOL: [Cell; CELLS] = [const { Cell(AtomicPtr::new(ptr::null_mut())) }; CELLS];
    static NEXT: AtomicUsize = AtomicUsize::new(0);

    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);

    fn fresh(counter: *mut AtomicUsize) -> *const () {
        let i = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(i < CELLS, "fresh_wakers: pool exhausted");
        POOL[i].0.store(counter, Ordering::SeqCst);
        ptr::from_ref(&POOL[i]).cast()
    }

    unsafe fn clone(data: *const ()) -> RawWaker {
        // SAFETY: every data pointer is a cell of `POOL`.
        let cell = unsafe { &*data.cast::<Cell>() };
        RawWaker::new(fresh(cell.0.load(Ordering::SeqCst)), &VTABLE)
    }

    unsafe fn wake(data: *const ()) {
        // SAFETY: every data pointer is a cell of `POOL`, whose counter is
        // leaked (`'static`).
        unsafe {
            (*(*data.cast::<Cell>()).0.load(Ordering::SeqCst)).fetch_add(1, Ordering::SeqCst)
        };
    }

    unsafe fn drop(_: *const ()) {}

    /// A waker bumping `counter`, in a fresh cell; and that cell.
    pub fn new(counter: &'static AtomicUsize) -> (Waker, &'static Cell) {
        let data = fresh(ptr::from_ref(counter).cast_mut());
        // SAFETY: `VTABLE`'s functions accept any cell of `POOL`.
        let waker = unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) };
        // SAFETY: `data` is a cell of `POOL`.
        (waker, unsafe { &*data.cast::<Cell>() })
    }

    /// Reuses `cell` (whose waker was dropped) for a waker bumping `counter`.
    pub fn reuse(cell: &'static Cell, counter: &'static AtomicUsize) -> Waker {
        cell.0
            .store(ptr::from_ref(counter).cast_mut(), Ordering::SeqCst);
        let data = ptr::from_ref(cell).cast();
        // SAFETY: `VTABLE`'s functions accept any cell of `POOL`.
        unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) }
    }
}

/// Issue 10, bug 8: the "same parent waker as last time" check must compare
/// with the waker `gather` stored (a clone), not with the caller's waker of
/// last time, whose address may since have been reused by another waker.
#[test]
fn a_new_parent_waker_at_a_reused_address_is_registered() {
    let a_wakes: &'static AtomicUsize = Box::leak(Box::default());
    let b_wakes: &'static AtomicUsize = Box::leak(Box::default());
    let dropped = Arc::new(AtomicUsize::new(0));
    let (child, handle) = probe(&dropped);
    let mut all = gather([child]);
    let (a, cell) = fresh_wakers::new(a_wakes);
    assert!(poll_with(&mut all, &a).is_pending());
    drop(a);
    // A different waker at the dropped one's address.
    let b = fresh_wakers::reuse(cell, b_wakes);
    assert!(poll_with(&mut all, &b).is_pending());
    handle.waker().wake();
    assert_eq!(a_wakes.load(Ordering::SeqCst), 0, "woke the old parent");
    assert_eq!(
        b_wakes.load(Ordering::SeqCst),
        1,
        "the new parent not woken"
    );
    drop(all);
}
