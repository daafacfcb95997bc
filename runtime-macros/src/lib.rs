//! The procedural macros of [`runtime`](https://docs.rs/runtime):
//! `#[runtime::main]`, `#[runtime::test]` and the engine of
//! `runtime::select!`.
//!
//! Use them through the `runtime` crate, which re-exports them and documents
//! them with examples; the code they expand to names `::runtime`.
//!
//! * `entry.rs`: the two attributes parse their options with
//!   `syn`, report a bad option as a `compile_error!` at its span, and
//!   expand to a `Builder` call that `block_on`s the function's body.
//! * `select.rs`: parses tokio's `select!` syntax into branches
//!   and expands to one output enum, a random start branch and a
//!   `poll_fn` that polls the enabled branches.

use proc_macro::TokenStream;

mod entry;
mod select;

/// Runs an `async fn main` on a runtime: see `runtime::main`.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on a fresh runtime: see `runtime::test`.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Test, args.into(), item.into()).into()
}

/// The engine of `runtime::select!`, which calls it as
/// `select!{ ($crate) branches... }`.
#[doc(hidden)]
#[proc_macro]
pub fn select(input: TokenStream) -> TokenStream {
    select::expand(input.into()).into()
}
