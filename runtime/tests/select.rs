//! `select!`: losers dropped before the handler, `biased;`, fairness,
//! refused patterns, preconditions, `else`, under any executor.

use std::future::{pending, ready, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use test_util::with_watchdog;

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Counts its polls; never completes.
struct CountPolls(Arc<AtomicUsize>);

impl Future for CountPolls {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Poll::Pending
    }
}

#[test]
fn the_losers_destructors_run_before_the_winners_handler() {
    with_watchdog(20, || {
        runtime::block_on(async {
            let loser_dropped = Arc::new(AtomicBool::new(false));
            let guard = DropFlag(Arc::clone(&loser_dropped));
            let seen_in_handler = runtime::select! {
                _ = async move {
                    let _guard = guard;
                    pending::<()>().await
                } => unreachable!("the pending branch cannot win"),
                v = async {
                    runtime::yield_now().await;
                    5
                } => {
                    assert_eq!(v, 5);
                    loser_dropped.load(Ordering::SeqCst)
                }
            };
            assert!(seen_in_handler, "the loser was still alive in the handler");
        })
    });
}

#[test]
fn biased_polls_in_written_order() {
    with_watchdog(20, || {
        runtime::block_on(async {
            for _ in 0..100 {
                let first = runtime::select! {
                    biased;
                    a = ready(1) => a,
                    b = ready(2) => b,
                    c = ready(3) => c,
                };
                assert_eq!(first, 1);
            }
        })
    });
}

#[test]
fn without_biased_each_ready_branch_wins_its_share() {
    with_watchdog(20, || {
        let mut wins = [0usize; 3];
        futures::executor::block_on(async {
            for _ in 0..3000 {
                let i = runtime::select! {
                    a = ready(0) => a,
                    b = ready(1) => b,
                    c = ready(2) => c,
                };
                wins[i] += 1;
            }
        });
        // A fair start gives ~1000 each; 600 is far outside random spread.
        assert!(wins.iter().all(|&w| w > 600), "wins: {wins:?}");
    });
}

#[test]
fn a_refused_pattern_disables_its_branch_and_the_others_go_on() {
    with_watchdog(20, || {
        runtime::block_on(async {
            let out = runtime::select! {
                Some(x) = ready(None::<u32>) => x,
                Ok(y) = async {
                    runtime::sleep(Duration::from_millis(5)).await;
                    Ok::<u32, ()>(9)
                } => y,
            };
            assert_eq!(out, 9);
        })
    });
}

#[test]
fn every_pattern_refused_runs_else_or_panics() {
    with_watchdog(20, || {
        let out = runtime::block_on(async {
            runtime::select! {
                Some(x) = ready(None::<u32>) => x,
                Err(e) = ready(Ok::<u32, u32>(1)) => e,
                else => 77,
            }
        });
        assert_eq!(out, 77);

        let result = catch_unwind(AssertUnwindSafe(|| {
            runtime::block_on(async {
                runtime::select! {
                    Some(x) = ready(None::<u32>) => x,
                    Err(e) = ready(Ok::<u32, u32>(1)) => e,
                }
            })
        }));
        let payload = result.unwrap_err();
        let message = payload.downcast_ref::<&str>().copied().unwrap_or_default();
        assert!(
            message.contains("all branches of `select!` are disabled"),
            "{message}"
        );
    });
}

#[test]
fn a_false_precondition_never_polls_its_future() {
    with_watchdog(20, || {
        runtime::block_on(async {
            let polls = Arc::new(AtomicUsize::new(0));
            let enabled = false;
            let out = runtime::select! {
                _ = CountPolls(Arc::clone(&polls)), if enabled => 1,
                v = async { runtime::yield_now().await; 2 } => v,
            };
            assert_eq!(out, 2);
            assert_eq!(polls.load(Ordering::SeqCst), 0);

            let out = runtime::select! {
                _ = CountPolls(Arc::clone(&polls)), if enabled => 1,
                else => 3,
            };
            assert_eq!(out, 3);
            assert_eq!(polls.load(Ordering::SeqCst), 0);
        })
    });
}

#[test]
fn mut_and_ref_mut_patterns_bind() {
    with_watchdog(20, || {
        runtime::block_on(async {
            let out = runtime::select! {
                biased;
                (mut a, ref mut b) = ready((1, vec![2])) => {
                    a += 10;
                    b.push(3);
                    (a, b.clone())
                },
                _ = pending::<()>() => unreachable!(),
            };
            assert_eq!(out, (11, vec![2, 3]));
            let out = runtime::select! {
                Some(mut v) = ready(Some(String::from("x"))) => {
                    v.push('y');
                    v
                }
            };
            assert_eq!(out, "xy");
        })
    });
}

#[test]
fn a_future_kept_across_a_loop_is_polled_to_completion() {
    with_watchdog(20, || {
        runtime::block_on(async {
            let done = runtime::sleep(Duration::from_millis(30));
            let mut done = std::pin::pin!(done);
            let mut ticks = 0u32;
            let mut finished = false;
            while !finished {
                runtime::select! {
                    _ = &mut done => finished = true,
                    _ = runtime::sleep(Duration::from_millis(2)) => ticks += 1,
                }
            }
            assert!(ticks >= 1);
        })
    });
}

#[test]
fn handlers_can_break_and_continue_the_enclosing_loop() {
    with_watchdog(20, || {
        runtime::block_on(async {
            let mut i = 0;
            let mut odd = 0;
            loop {
                i += 1;
                runtime::select! {
                    biased;
                    v = ready(i) , if i % 2 == 1 => { odd += v; continue; }
                    _ = ready(()), if i > 6 => break,
                    else => continue,
                }
            }
            assert_eq!(odd, 1 + 3 + 5 + 7);
            assert_eq!(i, 8);
        })
    });
}

#[test]
fn works_under_tokio_and_futures_executors() {
    with_watchdog(20, || {
        let out = futures::executor::block_on(async {
            runtime::select! {
                _ = pending::<()>() => 0,
                v = async { runtime::yield_now().await; 1 } => v,
            }
        });
        assert_eq!(out, 1);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let out = rt.block_on(async {
            runtime::select! {
                _ = tokio::time::sleep(Duration::from_secs(60)) => 0,
                v = async { tokio::task::yield_now().await; 2 } => v,
            }
        });
        assert_eq!(out, 2);
    });
}

#[test]
fn sixty_four_branches() {
    with_watchdog(20, || {
        runtime::block_on(async {
            macro_rules! sixty_four {
                ($($i:literal)*) => {
                    runtime::select! {
                        biased;
                        $( Some(v) = ready(if $i == 63 { Some($i) } else { None }) => v, )*
                    }
                };
            }
            let out = sixty_four!(
                0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
                32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59
                60 61 62 63
            );
            assert_eq!(out, 63);
        })
    });
}

#[test]
fn a_completed_branch_is_not_polled_again_while_another_waits() {
    // A branch whose output is refused is done: later polls skip it (its
    // future would panic if polled after completion).
    with_watchdog(20, || {
        runtime::block_on(async {
            let mut once = Some(());
            let refused = std::future::poll_fn(move |_| {
                once.take().expect("polled after completion");
                Poll::Ready(None::<u8>)
            });
            let out = runtime::select! {
                Some(v) = refused => v,
                _ = async {
                    for _ in 0..3 {
                        runtime::yield_now().await;
                    }
                } => 1,
            };
            assert_eq!(out, 1);
        })
    });
}
