//! `RwLock`: phase order, no writer starvation, cancel-safe hand-off,
//! `downgrade`, FIFO, no busy polling.

use std::sync::Arc;

use sync_primitives::RwLock;
use test_util::with_watchdog;
use test_util::{pending, ready, recording_wakers, CountingWaker};

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 20;

#[test]
fn readers_share_writers_exclude() {
    with_watchdog(WATCHDOG_SECS, || {
        let lock = RwLock::new(1);
        let a = lock.try_read().unwrap();
        let b = futures::executor::block_on(lock.read());
        assert_eq!(*a + *b, 2);
        assert!(lock.try_write().is_none());
        drop((a, b));
        let mut w = lock.try_write().unwrap();
        *w += 1;
        assert!(lock.try_read().is_none());
        assert!(lock.try_write().is_none());
        drop(w);
        assert_eq!(lock.into_inner(), 2);
    });
}

#[test]
fn phase_order_r_r_w_r_each_polled_twice() {
    let lock = RwLock::new(0);
    let writer = lock.try_write().unwrap();
    let (wakers, log) = recording_wakers(4);
    let mut r1 = lock.read();
    let mut r2 = lock.read();
    let mut w3 = lock.write();
    let mut r4 = lock.read();
    pending(&mut r1, &wakers[0]);
    pending(&mut r2, &wakers[1]);
    pending(&mut w3, &wakers[2]);
    pending(&mut r4, &wakers[3]);
    drop(writer);
    // The two readers at the head get in together; nobody else.
    assert_eq!(*log.lock(), vec![0, 1]);
    let g1 = ready(&mut r1, &wakers[0]);
    let g2 = ready(&mut r2, &wakers[1]);
    drop(g1);
    assert_eq!(*log.lock(), vec![0, 1], "the writer waits for both");
    drop(g2);
    assert_eq!(*log.lock(), vec![0, 1, 2]);
    let mut g3 = ready(&mut w3, &wakers[2]);
    *g3 += 1;
    drop(g3);
    assert_eq!(*log.lock(), vec![0, 1, 2, 3]);
    assert_eq!(*ready(&mut r4, &wakers[3]), 1);
}

#[test]
fn a_queued_writer_holds_back_later_readers_no_starvation() {
    let lock = RwLock::new(());
    let reader = lock.try_read().unwrap();
    let (wakers, log) = recording_wakers(2);
    let mut writer = lock.write();
    pending(&mut writer, &wakers[0]);
    // A stream of readers cannot overtake the queued writer.
    assert!(
        lock.try_read().is_none(),
        "try_read fails while a writer is queued"
    );
    let mut late = lock.read();
    pending(&mut late, &wakers[1]);
    drop(reader);
    assert_eq!(*log.lock(), vec![0]);
    let w = ready(&mut writer, &wakers[0]);
    drop(w);
    assert_eq!(*log.lock(), vec![0, 1]);
    drop(ready(&mut late, &wakers[1]));
}

#[test]
fn fifo_of_50_mixed_requests_in_first_poll_order() {
    let lock = RwLock::new(Vec::new());
    let holder = lock.try_write().unwrap();
    let (wakers, log) = recording_wakers(50);
    let mut writes: Vec<_> = (0..50).map(|_| lock.write()).collect();
    for i in (0..50).rev() {
        pending(&mut writes[i], &wakers[i]);
    }
    drop(holder);
    for step in 0..50 {
        assert_eq!(log.lock().len(), step + 1);
        let woken = *log.lock().last().unwrap();
        assert_eq!(woken, 49 - step);
        ready(&mut writes[woken], &wakers[woken]).push(woken);
    }
    drop(writes);
    assert_eq!(lock.into_inner(), (0..50).rev().collect::<Vec<_>>());
}

#[test]
fn a_dropped_queued_writer_lets_the_readers_behind_it_in() {
    let lock = RwLock::new(());
    let reader = lock.try_read().unwrap();
    let (wakers, log) = recording_wakers(2);
    let mut writer = lock.write(); // given all but one permit
    let mut late = lock.read();
    pending(&mut writer, &wakers[0]);
    pending(&mut late, &wakers[1]);
    drop(writer);
    assert_eq!(*log.lock(), vec![1]);
    let r = ready(&mut late, &wakers[1]);
    assert!(lock.try_read().is_some(), "nobody is queued any more");
    drop((r, reader));
    assert!(lock.try_write().is_some());
}

#[test]
fn a_dropped_writer_that_was_handed_the_lock_passes_it_on() {
    let lock = RwLock::new(());
    let holder = lock.try_write().unwrap();
    let (wakers, log) = recording_wakers(3);
    let mut writer = lock.write();
    let mut r1 = lock.read();
    let mut r2 = lock.read();
    pending(&mut writer, &wakers[0]);
    pending(&mut r1, &wakers[1]);
    pending(&mut r2, &wakers[2]);
    drop(holder);
    assert_eq!(*log.lock(), vec![0]);
    drop(writer); // handed the lock, never polled again
    assert_eq!(*log.lock(), vec![0, 1, 2]);
    let (a, b) = (ready(&mut r1, &wakers[1]), ready(&mut r2, &wakers[2]));
    drop((a, b));
    assert!(lock.try_write().is_some());
}

#[test]
fn downgrade_admits_the_readers_right_behind_it_and_no_writer() {
    let lock = RwLock::new(0);
    let mut writer = lock.try_write().unwrap();
    let (wakers, log) = recording_wakers(4);
    let mut r1 = lock.read();
    let mut r2 = lock.read();
    let mut w = lock.write();
    let mut r3 = lock.read();
    pending(&mut r1, &wakers[0]);
    pending(&mut r2, &wakers[1]);
    pending(&mut w, &wakers[2]);
    pending(&mut r3, &wakers[3]);
    *writer = 7;
    let reader = writer.downgrade();
    assert_eq!(*reader, 7);
    assert_eq!(*log.lock(), vec![0, 1]);
    let (a, b) = (ready(&mut r1, &wakers[0]), ready(&mut r2, &wakers[1]));
    assert_eq!(*a + *b, 14);
    drop((a, b));
    assert_eq!(log.lock().len(), 2, "the downgraded reader still holds it");
    drop(reader);
    assert_eq!(*log.lock(), vec![0, 1, 2]);
    drop(ready(&mut w, &wakers[2]));
    assert_eq!(*log.lock(), vec![0, 1, 2, 3]);
}

#[test]
fn owned_guards_and_owned_downgrade() {
    with_watchdog(WATCHDOG_SECS, || {
        let lock = Arc::new(RwLock::new(String::from("a")));
        let mut w = futures::executor::block_on(lock.clone().write_owned());
        w.push('b');
        assert!(Arc::ptr_eq(
            sync_primitives::OwnedRwLockWriteGuard::rwlock(&w),
            &lock
        ));
        let r = w.downgrade();
        assert_eq!(*r, "ab");
        let other = std::thread::spawn({
            let lock = lock.clone();
            move || futures::executor::block_on(lock.read_owned()).clone()
        });
        assert_eq!(other.join().unwrap(), "ab");
        drop(r);
        assert_eq!(Arc::strong_count(&lock), 1, "no guard leaked its Arc");
        assert!(lock.try_write().is_some());
    });
}

#[test]
fn re_polling_a_queued_read_keeps_only_the_newest_waker() {
    let lock = RwLock::new(());
    let w = lock.try_write().unwrap();
    let (old, old_waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    let mut read = lock.read();
    pending(&mut read, &old_waker);
    pending(&mut read, &new_waker);
    drop(w);
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
    drop(ready(&mut read, &new_waker));
}

#[test]
fn debug_shows_the_data_or_locked_and_never_blocks() {
    let lock = RwLock::new(5);
    assert_eq!(format!("{lock:?}"), "RwLock { data: 5 }");
    let r = lock.try_read().unwrap();
    assert_eq!(format!("{lock:?} {r:?}"), "RwLock { data: 5 } 5");
    drop(r);
    let w = lock.try_write().unwrap();
    assert_eq!(format!("{lock:?}"), "RwLock { data: <locked> }");
    assert_eq!(format!("{w:?}"), "5");
    assert!(format!("{:?}", lock.read()).starts_with("Read"));
}

#[test]
fn get_mut_and_unsized_data() {
    with_watchdog(WATCHDOG_SECS, || {
        let mut lock = RwLock::new(1);
        *lock.get_mut() += 1;
        assert_eq!(lock.into_inner(), 2);
        let lock: Arc<RwLock<[u8]>> = Arc::new(RwLock::new([1, 2, 3]));
        futures::executor::block_on(async {
            lock.write().await[0] = 9;
            assert_eq!(&*lock.read().await, &[9, 2, 3]);
        });
    });
}

#[test]
fn a_panic_while_write_locked_does_not_poison() {
    let lock = Arc::new(RwLock::new(0));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _guard = lock.try_write().unwrap();
        panic!("boom");
    }));
    assert!(result.is_err());
    assert!(lock.try_write().is_some());
}

/// `new` is a `const fn`: a lock can be a `static`.
static CONFIG: RwLock<u32> = RwLock::new(7);

#[test]
fn a_static_rwlock() {
    assert_eq!(*CONFIG.try_read().unwrap(), 7);
}

/// The lock, its futures and guards are `Send` (and `Sync`) where the data
/// allows, so tasks holding them can be spawned on multi-thread runtimes;
/// checked at compile time.
#[allow(dead_code)]
fn auto_traits() {
    use sync_primitives::rwlock::{Read, ReadOwned, Write, WriteOwned};
    use sync_primitives::{
        OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLockReadGuard, RwLockWriteGuard,
    };
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<RwLock<Vec<u8>>>();
    send::<RwLock<std::cell::Cell<u8>>>(); // Send, but not Sync: Cell is not Sync
    send_sync::<Read<'static, Vec<u8>>>();
    send_sync::<Write<'static, Vec<u8>>>();
    send_sync::<ReadOwned<Vec<u8>>>();
    send_sync::<WriteOwned<Vec<u8>>>();
    send_sync::<RwLockReadGuard<'static, Vec<u8>>>();
    send_sync::<RwLockWriteGuard<'static, Vec<u8>>>();
    send_sync::<OwnedRwLockReadGuard<Vec<u8>>>();
    send_sync::<OwnedRwLockWriteGuard<Vec<u8>>>();
}
