//! [`JoinError`]: why a task produced no output.

use std::any::Any;
use std::fmt;
use std::sync::Mutex;

/// The error a [`JoinHandle`](crate::JoinHandle) resolves to when its task
/// did not run to completion: it was cancelled (aborted, or its runtime shut
/// down) or it panicked.
///
/// # Examples
///
/// ```
/// let err = runtime::block_on(async {
///     runtime::spawn(async { panic!("boom") }).await.unwrap_err()
/// });
/// assert!(err.is_panic());
/// assert_eq!(err.to_string(), "task panicked: boom");
/// ```
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    Cancelled,
    /// The payload sits in a `Mutex` only to make `JoinError: Sync` (the
    /// payload itself is only `Send`); it is never contended. Boxed so that
    /// `JoinError` is one pointer: it is part of every task cell's output.
    Panic(Box<Mutex<Box<dyn Any + Send + 'static>>>),
}

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError {
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            repr: Repr::Panic(Box::new(Mutex::new(payload))),
        }
    }

    /// Returns `true` if the task was cancelled: aborted with
    /// [`JoinHandle::abort`](crate::JoinHandle::abort), or dropped because its
    /// runtime shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// runtime::block_on(async {
    ///     let handle = runtime::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     let err = handle.await.unwrap_err();
    ///     assert!(err.is_cancelled() && !err.is_panic());
    ///     assert_eq!(err.to_string(), "task was cancelled");
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Returns `true` if the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// Returns the panic payload, to inspect it or to resume the panic with
    /// [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// Panics if the error is not a panic (see [`is_panic`](Self::is_panic));
    /// use [`try_into_panic`](Self::try_into_panic) to avoid that.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = runtime::block_on(async {
    ///     runtime::spawn(async { std::panic::panic_any(42_u32) }).await.unwrap_err()
    /// });
    /// assert_eq!(*err.into_panic().downcast::<u32>().unwrap(), 42);
    /// ```
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError::into_panic` called on an error that is not a panic")
    }

    /// Returns the panic payload if the task panicked, or the error itself
    /// otherwise.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload.into_inner().unwrap_or_else(|e| e.into_inner())),
            Repr::Cancelled => Err(self),
        }
    }

    /// The panic message, when the payload is a string (as with `panic!`).
    fn panic_message(&self) -> Option<String> {
        let Repr::Panic(payload) = &self.repr else {
            return None;
        };
        let payload = payload.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = payload.downcast_ref::<&'static str>() {
            Some((*s).to_owned())
        } else {
            payload.downcast_ref::<String>().cloned()
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("task was cancelled"),
            Repr::Panic(_) => match self.panic_message() {
                Some(message) => write!(f, "task panicked: {message}"),
                None => f.write_str("task panicked"),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("JoinError::Cancelled"),
            Repr::Panic(_) => match self.panic_message() {
                Some(message) => write!(f, "JoinError::Panic({message:?})"),
                None => f.write_str("JoinError::Panic(..)"),
            },
        }
    }
}

impl std::error::Error for JoinError {}

#[cfg(test)]
mod tests {
    use super::JoinError;

    #[test]
    fn cancelled() {
        let err = JoinError::cancelled();
        assert!(err.is_cancelled() && !err.is_panic());
        assert_eq!(err.to_string(), "task was cancelled");
        assert_eq!(format!("{err:?}"), "JoinError::Cancelled");
        assert!(err.try_into_panic().is_err());
    }

    #[test]
    fn panic_payloads() {
        let err = JoinError::panic(Box::new("static"));
        assert!(err.is_panic() && !err.is_cancelled());
        assert_eq!(err.to_string(), "task panicked: static");
        let err = JoinError::panic(Box::new(String::from("owned")));
        assert_eq!(format!("{err:?}"), "JoinError::Panic(\"owned\")");
        let err = JoinError::panic(Box::new(7_i32));
        assert_eq!(err.to_string(), "task panicked");
        assert_eq!(*err.into_panic().downcast::<i32>().unwrap(), 7);
    }
}
