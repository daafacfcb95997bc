//! `select!`: parsing tokio's syntax, and the expansion.
//!
//! ```text
//! select! {
//!     [biased;]
//!     <pattern> = <future> [, if <precondition>] => <handler>[,]
//!     ...
//!     [else => <handler>[,]]
//! }
//! ```
//!
//! The expansion, for branches `0..n`:
//! 1. evaluates the preconditions (a false one disables its branch), then
//!    the futures, into one tuple that is never moved again (so the futures
//!    need not be `Unpin`);
//! 2. polls the enabled branches in a `poll_fn`, one labelled block per
//!    branch: in a loop from a random branch, or straight-line in written
//!    order with `biased;`. The first future to complete whose
//!    output matches its pattern ends the poll as variant `_k` of an output
//!    enum with one variant per branch; a refused output disables its branch;
//! 3. leaves the block that owns the tuple, which drops every other future,
//!    and only then matches the output against the patterns and runs the
//!    handler; with every branch disabled, it runs `else` or panics.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::visit_mut::VisitMut;
use syn::{braced, parenthesized, Expr, Pat, Token};

/// At most this many branches (the disabled set is a `u64`).
const MAX_BRANCHES: usize = 64;

struct Branch {
    pattern: Pat,
    future: Expr,
    precondition: Option<Expr>,
    handler: Expr,
}

struct Select {
    /// The `runtime` crate's path (`$crate` of the calling `macro_rules!`).
    krate: TokenStream,
    biased: bool,
    branches: Vec<Branch>,
    otherwise: Option<Expr>,
}

mod kw {
    syn::custom_keyword!(biased);
}

/// Parses a handler: a block (then an optional comma) or an expression
/// (then a comma, unless it is the last thing in the macro).
fn parse_handler(input: ParseStream<'_>) -> syn::Result<Expr> {
    let handler = if input.peek(syn::token::Brace) {
        let content;
        let brace = braced!(content in input);
        let stmts = content.call(syn::Block::parse_within)?;
        Expr::Block(syn::ExprBlock {
            attrs: Vec::new(),
            label: None,
            block: syn::Block {
                brace_token: brace,
                stmts,
            },
        })
    } else {
        let expr: Expr = input.parse()?;
        if !input.is_empty() && !input.peek(Token![,]) {
            return Err(input.error("expected `,` after this branch's handler"));
        }
        expr
    };
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
    }
    Ok(handler)
}

impl Parse for Select {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let krate_tokens;
        parenthesized!(krate_tokens in input);
        let krate: TokenStream = krate_tokens.parse()?;
        let mut biased = false;
        if input.peek(kw::biased) && input.peek2(Token![;]) {
            input.parse::<kw::biased>()?;
            input.parse::<Token![;]>()?;
            biased = true;
        }
        let mut branches = Vec::new();
        let mut otherwise = None;
        while !input.is_empty() {
            if input.peek(Token![else]) {
                let token = input.parse::<Token![else]>()?;
                input.parse::<Token![=>]>()?;
                if otherwise.is_some() {
                    return Err(syn::Error::new(
                        token.span,
                        "`select!` takes at most one `else` branch",
                    ));
                }
                otherwise = Some(parse_handler(input)?);
                continue;
            }
            let pattern = Pat::parse_multi_with_leading_vert(input)?;
            input.parse::<Token![=]>()?;
            let future: Expr = input.parse()?;
            let precondition = if input.peek(Token![,]) && input.peek2(Token![if]) {
                input.parse::<Token![,]>()?;
                input.parse::<Token![if]>()?;
                Some(input.parse::<Expr>()?)
            } else {
                None
            };
            input.parse::<Token![=>]>()?;
            let handler = parse_handler(input)?;
            branches.push(Branch {
                pattern,
                future,
                precondition,
                handler,
            });
        }
        if branches.len() > MAX_BRANCHES {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("`select!` takes at most {MAX_BRANCHES} branches"),
            ));
        }
        if branches.is_empty() && otherwise.is_none() {
            return Err(syn::Error::new(
                Span::call_site(),
                "`select!` needs at least one branch",
            ));
        }
        Ok(Select {
            krate,
            biased,
            branches,
            otherwise,
        })
    }
}

/// Strips `mut` and `ref` from a pattern's bindings: the copy of the pattern
/// that tests the output by reference only asks "does it match?".
struct CleanPattern;

impl VisitMut for CleanPattern {
    fn visit_pat_ident_mut(&mut self, pat: &mut syn::PatIdent) {
        pat.by_ref = None;
        pat.mutability = None;
        syn::visit_mut::visit_pat_ident_mut(self, pat);
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<Select>(input) {
        Ok(select) => expand_select(select),
        Err(err) => err.to_compile_error(),
    }
}

fn expand_select(select: Select) -> TokenStream {
    let Select {
        krate,
        biased,
        branches,
        otherwise,
    } = select;
    // Our own names are mixed-site: invisible to the user's expressions.
    let out_enum = quote::format_ident!("__SelectOutput", span = Span::mixed_site());
    let disabled = quote::format_ident!("__select_disabled", span = Span::mixed_site());
    let futures = quote::format_ident!("__select_futures", span = Span::mixed_site());
    let output = quote::format_ident!("__select_output", span = Span::mixed_site());
    let cx = quote::format_ident!("__select_cx", span = Span::mixed_site());
    let pending = quote::format_ident!("__select_pending", span = Span::mixed_site());
    let fut = quote::format_ident!("__select_future", span = Span::mixed_site());
    let value = quote::format_ident!("__select_value", span = Span::mixed_site());

    let all_disabled = match otherwise {
        Some(handler) => quote!(#handler),
        None => quote! {
            ::core::panic!("all branches of `select!` are disabled (refused or preconditions false) and there is no `else` branch")
        },
    };
    let n = branches.len();
    if n == 0 {
        return quote!({ #all_disabled });
    }

    let variants: Vec<_> = (0..n).map(|i| format_ident!("_{}", i)).collect();
    let futures_exprs = branches
        .iter()
        .map(|b| &b.future)
        .map(|f| quote!(::core::future::IntoFuture::into_future(#f)));
    let preconditions = branches.iter().enumerate().map(|(i, b)| {
        let bit = 1u64 << i;
        b.precondition.as_ref().map(|cond| {
            quote! {
                if !(#cond) {
                    #disabled |= #bit;
                }
            }
        })
    });
    // One block per branch; `break #skip` goes on to the next branch.
    let skip = syn::Lifetime::new("'__select_branch", Span::mixed_site());
    let poll_blocks: Vec<TokenStream> = branches
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let bit = 1u64 << i;
            let variant = &variants[i];
            let skips = (0..i).map(|_| quote!(_,));
            let mut check = b.pattern.clone();
            CleanPattern.visit_pat_mut(&mut check);
            quote! {
                #skip: {
                    if #disabled & #bit != 0 {
                        break #skip;
                    }
                    let (#(#skips)* #fut, ..) = &mut *#futures;
                    // SAFETY: the tuple of futures is never moved after it
                    // was created: its binding is shadowed by this mutable
                    // borrow, and it is dropped in place when the select
                    // block ends.
                    let #fut = unsafe { ::core::pin::Pin::new_unchecked(#fut) };
                    let #value = match ::core::future::Future::poll(#fut, #cx) {
                        ::core::task::Poll::Ready(value) => value,
                        ::core::task::Poll::Pending => {
                            #pending = true;
                            break #skip;
                        }
                    };
                    // A completed future is never polled again.
                    #disabled |= #bit;
                    #[allow(unused_variables, unreachable_patterns, clippy::redundant_pattern_matching)]
                    match &#value {
                        #check => {}
                        _ => break #skip,
                    }
                    return ::core::task::Poll::Ready(#out_enum::#variant(#value));
                }
            }
        })
        .collect();
    // `biased;`: the blocks in written order, straight-line. Otherwise a
    // loop from a random start, dispatching on the branch index.
    let poll_all = if biased {
        quote!(#(#poll_blocks)*)
    } else {
        let indices = 0..n;
        let start = quote!(#krate::__select::start(#n));
        quote! {
            let start: usize = #start;
            for offset in 0..#n {
                // (start + offset) mod #n, without a division.
                let branch = start + offset;
                let branch = if branch >= #n { branch - #n } else { branch };
                match branch {
                    #(#indices => #poll_blocks)*
                    _ => ::core::unreachable!(),
                }
            }
        }
    };
    let handler_arms = branches.iter().enumerate().map(|(i, b)| {
        let variant = &variants[i];
        let pattern = &b.pattern;
        let handler = &b.handler;
        quote! {
            #out_enum::#variant(#pattern) => #handler,
        }
    });
    quote! {{
        #[allow(non_camel_case_types, dead_code)]
        enum #out_enum<#(#variants,)*> {
            #(#variants(#variants),)*
            Disabled,
        }
        #[allow(unused_mut)]
        let mut #output = {
            let mut #disabled: u64 = 0;
            #(#preconditions)*
            let mut #futures = ( #(#futures_exprs,)* );
            let #futures = &mut #futures;
            ::core::future::poll_fn(|#cx| {
                let mut #pending = false;
                #poll_all
                if #pending {
                    ::core::task::Poll::Pending
                } else {
                    ::core::task::Poll::Ready(#out_enum::Disabled)
                }
            })
            .await
        };
        match #output {
            #(#handler_arms)*
            _ => #all_disabled,
        }
    }}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(tokens: TokenStream) -> syn::Result<Select> {
        syn::parse2(tokens)
    }

    #[test]
    fn parses_tokio_syntax() {
        let select = parse(quote! {
            (::runtime)
            biased;
            Some(mut x) = a, if ready => { x += 1; }
            ref mut y = b => y.len(),
            Ok(v) | Err(v) = c => v,
            else => 0,
        })
        .unwrap();
        assert!(select.biased);
        assert_eq!(select.branches.len(), 3);
        assert!(select.branches[0].precondition.is_some());
        assert!(select.branches[1].precondition.is_none());
        assert!(select.otherwise.is_some());
    }

    #[test]
    fn too_many_branches_is_an_error() {
        let branches = (0..65).map(|_| quote!(_ = f() => {},));
        let err = parse(quote!((::runtime) #(#branches)*)).err().unwrap();
        assert!(err.to_string().contains("at most 64 branches"));
    }

    #[test]
    fn a_missing_comma_is_an_error() {
        let err = parse(quote!((::runtime) _ = a => 1 _ = b => 2))
            .err()
            .unwrap();
        assert!(err.to_string().contains("expected `,`"), "{err}");
    }

    #[test]
    fn the_check_pattern_drops_mut_and_ref() {
        let mut pat: Pat = syn::parse_quote!((mut a, ref mut b, Some(ref c)));
        CleanPattern.visit_pat_mut(&mut pat);
        assert_eq!(
            quote!(#pat).to_string(),
            quote!((a, b, Some(c))).to_string()
        );
    }
}
