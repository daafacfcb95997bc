//! The chapter's demos (work in progress; see issue 6).
fn main() {}
