//! A small async runtime (work in progress; see issue 4).
