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

#[test]
fn channels_queues_and_their_futures_are_send_where_t_is_send() {
    use sync_primitives::{mpsc, queue, LifoQueue, PriorityQueue, Queue};
    // `Cell` is `Send` but not `Sync`: a channel needs only `T: Send`.
    type T = Cell<u8>;
    send_sync::<mpsc::Sender<T>>();
    send_sync::<mpsc::Receiver<T>>();
    send_sync::<mpsc::UnboundedSender<T>>();
    send_sync::<mpsc::UnboundedReceiver<T>>();
    send::<mpsc::Send<'static, T>>();
    send::<mpsc::Recv<'static, T>>();
    send::<mpsc::RecvMany<'static, T>>();
    send::<mpsc::Closed<'static, T>>();
    send_sync::<Queue<T>>();
    send_sync::<LifoQueue<T>>();
    send_sync::<PriorityQueue<u8>>();
    send::<queue::Put<'static, T>>();
    send::<queue::Get<'static, T>>();
    send::<queue::Put<'static, u8, queue::Priority<u8>>>();
    send_sync::<queue::Join<'static>>();
    // Errors holding a value can be sent back to another thread.
    send_sync::<mpsc::SendError<u8>>();
    send_sync::<queue::ShutDown<u8>>();
}
