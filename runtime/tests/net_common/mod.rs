//! Shared by the `net*` test files: the two runtime flavours. (Their
//! watchdog is `test_util::with_watchdog`.)

#![allow(dead_code)]

/// A current-thread runtime and a multi-thread one with two workers.
pub fn flavours() -> [(&'static str, runtime::Runtime); 2] {
    [
        ("current-thread", runtime::Runtime::new()),
        (
            "multi-thread",
            runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
    ]
}
