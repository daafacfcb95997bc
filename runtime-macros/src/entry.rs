//! `#[runtime::main]` and `#[runtime::test]`: options, checks, expansion.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, MetaNameValue, Token};

/// Which attribute is expanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Main => "#[runtime::main]",
            Kind::Test => "#[runtime::test]",
        }
    }
}

/// The runtime flavour chosen with `flavor = "..."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
}

/// The parsed options of either attribute.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) flavor: Flavor,
    pub(crate) worker_threads: Option<usize>,
}

/// Parses `flavor = "current_thread" | "multi_thread", worker_threads = N`;
/// each error is at the span of the option (or value) at fault.
pub(crate) fn parse_options(args: TokenStream) -> syn::Result<Options> {
    let parsed = Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse2(args)?;
    let mut flavor = None;
    let mut worker_threads = None;
    for option in parsed {
        let name = option
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        match name.as_str() {
            "flavor" => {
                if flavor.is_some() {
                    return Err(error(&option.path, "option `flavor` is given twice"));
                }
                let value = string_value(&option.value, "flavor")?;
                flavor = Some(match value.as_str() {
                    "current_thread" => Flavor::CurrentThread,
                    "multi_thread" => Flavor::MultiThread,
                    other => {
                        return Err(error(
                            &option.value,
                            &format!(
                                "unknown `flavor` \"{other}\": expected \"current_thread\" or \
                                 \"multi_thread\""
                            ),
                        ))
                    }
                });
            }
            "worker_threads" => {
                if worker_threads.is_some() {
                    return Err(error(
                        &option.path,
                        "option `worker_threads` is given twice",
                    ));
                }
                worker_threads = Some((int_value(&option.value)?, option.path.span()));
            }
            _ => {
                let path = &option.path;
                let shown = quote!(#path).to_string().replace(' ', "");
                return Err(error(
                    &option.path,
                    &format!(
                        "unknown option `{shown}`: the options are `flavor` and `worker_threads`"
                    ),
                ));
            }
        }
    }
    let flavor = flavor.unwrap_or(Flavor::CurrentThread);
    if let Some((_, span)) = worker_threads {
        if flavor != Flavor::MultiThread {
            return Err(syn::Error::new(
                span,
                "option `worker_threads` needs `flavor = \"multi_thread\"` (a current-thread \
                 runtime has no worker threads)",
            ));
        }
    }
    Ok(Options {
        flavor,
        worker_threads: worker_threads.map(|(n, _)| n),
    })
}

fn error(tokens: &impl Spanned, message: &str) -> syn::Error {
    syn::Error::new(tokens.span(), message)
}

fn string_value(value: &Expr, option: &str) -> syn::Result<String> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.value()),
        _ => Err(error(
            value,
            &format!("option `{option}` takes a string, like `{option} = \"multi_thread\"`"),
        )),
    }
}

fn int_value(value: &Expr) -> syn::Result<usize> {
    let parsed = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(n), ..
        }) => n.base10_parse::<usize>().ok(),
        _ => None,
    };
    match parsed {
        Some(0) => Err(error(value, "option `worker_threads` must be at least 1")),
        Some(n) => Ok(n),
        None => Err(error(
            value,
            "option `worker_threads` takes a positive integer, like `worker_threads = 4`",
        )),
    }
}

/// Expands either attribute; errors become `compile_error!`s, keeping the
/// function so that the rest of the crate still type-checks.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(err) => {
            let err = err.to_compile_error();
            return quote!(#err #item);
        }
    };
    match expand_fn(kind, args, function.clone()) {
        Ok(tokens) => tokens,
        Err(err) => {
            let err = err.to_compile_error();
            // Keep a synchronous stand-in, so that a bad option does not
            // also produce "`main` function is not allowed to be `async`".
            // It is only ever emitted beside the `compile_error!`, so it
            // never runs.
            let mut stand_in = function;
            stand_in.sig.asyncness = None;
            stand_in.block =
                syn::parse_quote!({ ::core::panic!("not built: see the error on the attribute") });
            quote!(#err #stand_in)
        }
    }
}

fn expand_fn(kind: Kind, args: TokenStream, mut function: ItemFn) -> syn::Result<TokenStream> {
    let options = parse_options(args)?;
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        return Err(error(
            &sig.fn_token,
            &format!("{} needs an `async fn`", kind.name()),
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(error(
            &sig.inputs,
            &format!("{} takes a function without arguments", kind.name()),
        ));
    }
    function.sig.asyncness = None;
    let body = &function.block;
    let span = body.span();
    let builder = match options.flavor {
        Flavor::CurrentThread => quote!(::runtime::Builder::new_current_thread()),
        Flavor::MultiThread => match options.worker_threads {
            Some(n) => quote!(::runtime::Builder::new_multi_thread().worker_threads(#n)),
            None => quote!(::runtime::Builder::new_multi_thread()),
        },
    };
    // The body runs as an `async` block, so `return` and `?` in it behave as
    // in the `async fn`.
    let new_body = quote_spanned! {span=>
        {
            let body = async #body;
            #builder
                .build()
                .expect("failed to build the runtime")
                .block_on(body)
        }
    };
    function.block = syn::parse2(new_body)?;
    let test_attr = if kind == Kind::Test {
        // Unless the user already wrote `#[test]` (or a relative of it).
        let has_test = function.attrs.iter().any(|attr| {
            attr.path()
                .segments
                .last()
                .is_some_and(|segment| segment.ident == "test")
        });
        if has_test {
            quote!()
        } else {
            quote!(#[::core::prelude::v1::test])
        }
    } else {
        quote!()
    };
    Ok(quote!(#test_attr #function))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(args: TokenStream) -> String {
        parse_options(args).unwrap_err().to_string()
    }

    #[test]
    fn options_parse() {
        assert_eq!(
            parse_options(quote!()).unwrap(),
            Options {
                flavor: Flavor::CurrentThread,
                worker_threads: None
            }
        );
        assert_eq!(
            parse_options(quote!(flavor = "multi_thread", worker_threads = 3)).unwrap(),
            Options {
                flavor: Flavor::MultiThread,
                worker_threads: Some(3)
            }
        );
        assert_eq!(
            parse_options(quote!(flavor = "current_thread"))
                .unwrap()
                .flavor,
            Flavor::CurrentThread
        );
    }

    #[test]
    fn bad_options_name_the_option() {
        assert!(err(quote!(flavour = "multi_thread")).contains("unknown option `flavour`"));
        assert!(err(quote!(flavor = "fast")).contains("unknown `flavor` \"fast\""));
        assert!(err(quote!(flavor = 3)).contains("option `flavor` takes a string"));
        assert!(err(quote!(flavor = "multi_thread", worker_threads = "two"))
            .contains("option `worker_threads` takes a positive integer"));
        assert!(err(quote!(flavor = "multi_thread", worker_threads = 0))
            .contains("option `worker_threads` must be at least 1"));
        assert!(err(quote!(worker_threads = 2)).contains("needs `flavor = \"multi_thread\"`"));
        assert!(
            err(quote!(flavor = "multi_thread", flavor = "multi_thread"))
                .contains("option `flavor` is given twice")
        );
    }

    #[test]
    fn a_sync_function_is_refused() {
        let out = expand(
            Kind::Main,
            quote!(),
            quote!(
                fn main() {}
            ),
        )
        .to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("needs an `async fn`"), "{out}");
    }

    #[test]
    fn test_adds_the_test_attribute_once() {
        let out = expand(
            Kind::Test,
            quote!(),
            quote!(
                async fn t() {}
            ),
        )
        .to_string();
        assert_eq!(out.matches("test").count(), 1, "{out}");
        let out = expand(
            Kind::Test,
            quote!(),
            quote!(
                #[test]
                async fn t() {}
            ),
        )
        .to_string();
        assert_eq!(out.matches("test").count(), 1, "{out}");
    }
}
