//! Waiter, Event and Mutex on wakers (work in progress; see issue 3).
