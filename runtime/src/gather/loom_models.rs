//! Models of the readiness set's races: its lock-free stack (wakes pushed
//! from other threads while the owner takes it), its two waker vtables and
//! the shared block's reference count (clones made and dropped on other
//! threads, against the owner's polls and the drop of the set).
//!
//! Under `--cfg loom` each model explores the interleavings of its threads
//! (`LOOM_MAX_PREEMPTIONS=2`); under plain `cargo test` it runs once, on
//! real threads, like maitake-sync's models.

use std::mem::ManuallyDrop;
use std::ops::ControlFlow;
use std::task::{Context, RawWaker, Wake, Waker};

use super::{ReadySet, BORROWED};
use crate::loom::{thread, AtomicUsize, Ordering};

/// Runs `f` under loom's model checker, or once without loom.
fn model(f: impl Fn() + Send + Sync + 'static) {
    #[cfg(loom)]
    loom::model(f);
    #[cfg(not(loom))]
    f();
}

/// A parent waker that counts its wakes.
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> (std::sync::Arc<Count>, Waker) {
    let count = std::sync::Arc::new(Count(AtomicUsize::new(0)));
    (count.clone(), Waker::from(count))
}

impl Count {
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// One poll of `set` with `parent`; keeps a clone of the waker of each
/// child in `keep` (by index); returns the children polled, in order.
fn poll_round(set: &mut ReadySet, parent: &Waker, keep: &mut [Option<Waker>]) -> Vec<usize> {
    let mut seen = Vec::new();
    let flow: ControlFlow<()> = set.poll_children(&Context::from_waker(parent), |i, cx| {
        seen.push(i);
        if let Some(slot) = keep.get_mut(i) {
            *slot = Some(cx.waker().clone());
        }
        ControlFlow::Continue(())
    });
    assert!(flow.is_continue());
    seen
}

/// A wake from another thread, through a clone, while the owner polls: the
/// owner's poll sees it, or the parent is woken and the next poll sees it.
/// Never lost, never handed out twice by one poll.
#[test]
fn gather_wake_from_another_thread_vs_poll() {
    model(|| {
        let (count, parent) = counter();
        let mut set = ReadySet::new(2);
        let mut keep = [None, None];
        assert_eq!(poll_round(&mut set, &parent, &mut keep), [0, 1]);
        let woken_before = count.get();
        let waker = keep[1].take().expect("kept");
        let t = thread::spawn(move || waker.wake());
        let during = poll_round(&mut set, &parent, &mut []);
        t.join().expect("waker thread");
        assert!(during.len() <= 1, "{during:?}");
        if during.is_empty() {
            // Not seen by the poll: the parent must have been woken...
            assert!(count.get() > woken_before, "lost wake-up");
            // ...and the next poll sees it.
            assert_eq!(poll_round(&mut set, &parent, &mut []), [1]);
        } else {
            assert_eq!(during, [1]);
        }
        assert_eq!(poll_round(&mut set, &parent, &mut []), [] as [usize; 0]);
        drop(set);
        assert_eq!(
            std::sync::Arc::strong_count(&count),
            2,
            "the parent waker stored in the shared block is dropped with the set"
        );
    });
}

/// Two threads wake two children (through clones) while the owner polls:
/// each wake is seen once, by that poll or by the next one, and the stack
/// hands them out without duplicates.
#[test]
fn gather_two_concurrent_pushes_vs_take() {
    model(|| {
        let (count, parent) = counter();
        let mut set = ReadySet::new(2);
        let mut keep = [None, None];
        poll_round(&mut set, &parent, &mut keep);
        let woken_before = count.get();
        let threads: Vec<_> = keep
            .iter_mut()
            .map(|w| {
                let w = w.take().expect("kept");
                thread::spawn(move || w.wake())
            })
            .collect();
        let during = poll_round(&mut set, &parent, &mut []);
        for t in threads {
            t.join().expect("waker thread");
        }
        let woken_after = count.get();
        let after = poll_round(&mut set, &parent, &mut []);
        if !after.is_empty() {
            assert!(woken_after > woken_before, "lost wake-up");
        }
        let mut all = [during, after].concat();
        all.sort_unstable();
        assert_eq!(all, [0, 1], "each wake seen exactly once");
    });
}

/// A clone woken and dropped on another thread while the owner drops the
/// set: the wake reaches the set (and the parent) or finds it gone; the
/// shared block is freed by whichever drops its reference last, and the
/// parent waker it stored is dropped.
#[test]
fn gather_wake_and_drop_of_a_clone_vs_drop_of_the_set() {
    model(|| {
        let (count, parent) = counter();
        let mut set = ReadySet::new(1);
        let mut keep = [None];
        poll_round(&mut set, &parent, &mut keep);
        let waker = keep[0].take().expect("kept");
        let t = thread::spawn(move || {
            waker.wake_by_ref();
            let again = waker.clone();
            drop(waker);
            again.wake();
        });
        drop(set);
        t.join().expect("waker thread");
        assert!(count.get() <= 1, "one wake of the parent at most");
        drop(parent);
        assert_eq!(
            std::sync::Arc::strong_count(&count),
            1,
            "every clone of the parent waker dropped"
        );
    });
}

/// Two threads clone the same borrowed waker during one poll (as scoped
/// threads of a child may): one shared block is made, the other thread's is
/// freed, and both clones wake the same child.
#[test]
fn gather_two_first_clones_race_to_make_the_shared_block() {
    model(|| {
        let (count, parent) = counter();
        let mut set = ReadySet::new(1);
        let mut clones = Vec::new();
        let flow: ControlFlow<()> = set.poll_children(&Context::from_waker(&parent), |_, cx| {
            // The borrowed waker's data, to rebuild the same `&Waker` on
            // other threads; both are joined before this poll returns.
            let data = cx.waker().data() as usize;
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    thread::spawn(move || {
                        // SAFETY: the set is alive and inside this poll until
                        // both threads are joined; the waker is borrowed, never
                        // dropped (as `ReadySet::waker` lends it).
                        let borrowed = ManuallyDrop::new(unsafe {
                            Waker::from_raw(RawWaker::new(data as *const (), &BORROWED))
                        });
                        Waker::clone(&borrowed)
                    })
                })
                .collect();
            for t in threads {
                clones.push(t.join().expect("cloning thread"));
            }
            ControlFlow::Continue(())
        });
        assert!(flow.is_continue());
        assert_eq!(clones.len(), 2);
        assert!(clones[0].will_wake(&clones[1]), "two shared blocks");
        clones.pop().expect("two").wake();
        assert_eq!(count.get(), 1);
        assert_eq!(poll_round(&mut set, &parent, &mut []), [0]);
        drop(set);
        clones.pop().expect("one").wake();
        assert_eq!(count.get(), 1, "woke after the set was dropped");
    });
}

/// A child clones its waker during the first poll and hands the clone to a
/// thread that wakes it at once, while the owner finishes the poll and
/// registers its waker in the block just made: the wake finds the parent
/// registered, or the owner sees the pushed child at the end of its pass.
#[test]
fn gather_wake_through_a_fresh_clone_vs_the_end_of_the_first_poll() {
    model(|| {
        let (count, parent) = counter();
        let mut set = ReadySet::new(1);
        let mut waker_thread = None;
        let flow: ControlFlow<()> = set.poll_children(&Context::from_waker(&parent), |_, cx| {
            let clone = cx.waker().clone();
            waker_thread = Some(thread::spawn(move || clone.wake()));
            ControlFlow::Continue(())
        });
        assert!(flow.is_continue());
        waker_thread.expect("spawned").join().expect("waker thread");
        assert!(count.get() >= 1, "lost wake-up");
        assert_eq!(poll_round(&mut set, &parent, &mut []), [0]);
    });
}

/// A child woken both by itself (through its borrowed waker, on the owner's
/// list) and, from another thread, through a clone, while the owner polls
/// it: what that thread did before waking is seen by the child's poll, or
/// the child is polled again.
#[test]
fn gather_own_list_vs_wake_through_a_clone() {
    model(|| {
        let (count, parent) = counter();
        let mut set = ReadySet::new(1);
        let mut clone = None;
        // First poll: the child keeps a clone and wakes itself.
        let flow: ControlFlow<()> = set.poll_children(&Context::from_waker(&parent), |_, cx| {
            clone = Some(cx.waker().clone());
            cx.waker().wake_by_ref();
            ControlFlow::Continue(())
        });
        assert!(flow.is_continue());
        let fired = std::sync::Arc::new(AtomicUsize::new(0));
        let t = {
            let fired = fired.clone();
            let clone = clone.take().expect("cloned");
            thread::spawn(move || {
                // Relaxed: published to the child's poll by the wake itself.
                fired.store(1, Ordering::Relaxed);
                clone.wake();
            })
        };
        let before = count.get();
        let mut seen = None;
        let flow: ControlFlow<()> = set.poll_children(&Context::from_waker(&parent), |i, _| {
            assert_eq!(i, 0);
            seen = Some(fired.load(Ordering::Relaxed) == 1);
            ControlFlow::Continue(())
        });
        assert!(flow.is_continue());
        assert!(seen.is_some(), "the self-woken child is polled");
        t.join().expect("waker thread");
        if seen != Some(true) {
            assert!(count.get() > before, "lost wake-up");
            assert_eq!(poll_round(&mut set, &parent, &mut []), [0]);
        }
    });
}
