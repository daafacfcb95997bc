//! The auto traits users rely on, checked at compile time: the primitives
//! can be shared between threads, and a task that holds a guard across an
//! `.await` can still be spawned on a multi-thread runtime.

#![allow(dead_code)]

use std::cell::Cell;
use std::sync::Arc;

use sync_primitives::{event, mutex, waiter, Event, Mutex, MutexGuard, OwnedMutexGuard, Waiter};

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}

#[test]
fn primitives_are_send_and_sync() {
    send_sync::<Waiter>();
    send_sync::<Event>();
    // `T: Send` is enough for the mutex, as for `std::sync::Mutex`.
    send_sync::<Mutex<Cell<u8>>>();
    send_sync::<Arc<Mutex<Vec<u8>>>>();
}

#[test]
fn futures_are_send_where_t_is_send() {
    send_sync::<waiter::Wait<'static>>();
    send_sync::<event::Wait<'static>>();
    send::<mutex::Lock<'static, Cell<u8>>>();
    send::<mutex::LockOwned<Cell<u8>>>();
    send_sync::<mutex::Lock<'static, u8>>();
}

#[test]
fn guards_are_send_where_t_is_send_and_sync_where_t_is_sync() {
    send::<MutexGuard<'static, Cell<u8>>>();
    send::<OwnedMutexGuard<Cell<u8>>>();
    send_sync::<MutexGuard<'static, u8>>();
    send_sync::<OwnedMutexGuard<u8>>();
}

#[test]
fn a_task_holding_a_guard_across_an_await_is_send() {
    async fn hold(mutex: Arc<Mutex<u64>>, waiter: Arc<Waiter>) {
        let mut guard = mutex.lock().await;
        waiter.wait().await;
        *guard += 1;
    }
    fn assert_send<F: std::future::Future + Send>(_: F) {}
    assert_send(hold(Arc::new(Mutex::new(0)), Arc::new(Waiter::new())));
}
