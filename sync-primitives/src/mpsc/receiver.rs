//! The receiver's public methods, written once for both flavours: a
//! [`Receiver`](super::Receiver) and an
//! [`UnboundedReceiver`](super::UnboundedReceiver) are each a wrapper around
//! the shared [`Rx`](super::Rx) with the same methods, the same `Stream`
//! and the same `Debug`; only their doc examples differ (how the channel is
//! made and how a value is sent).

/// Implements the receiving methods, `Stream` and `Debug` for `$Receiver`
/// (a struct with one field, `rx: Rx<T>`). `$make` makes a channel in the
/// doc examples, `$send` sends the value `x` on `tx` in them, and
/// `$on_close` says what closing does to waiting senders.
macro_rules! receiver_impl {
    ($Receiver:ident, make: $make:literal, send: $send:literal, on_close: $on_close:literal) => {
        impl<T> $Receiver<T> {
            pub(super) fn new(rx: Rx<T>) -> Self {
                $Receiver { rx }
            }

            /// Receives the next value, waiting while the channel is empty:
            /// `None` once every sender is dropped (or the receiver closed)
            /// and every value sent before was received.
            ///
            /// Cancel-safe: dropping the future loses no value.
            ///
            /// # Examples
            ///
            /// ```
            /// use sync_primitives::mpsc;
            ///
            /// runtime::block_on(async {
            #[doc = concat!("    let (tx, mut rx) = ", $make, ";")]
            ///     for x in ["a", "b"] {
            #[doc = concat!("        ", $send, ";")]
            ///     }
            ///     drop(tx);
            ///     assert_eq!(rx.recv().await, Some("a"));
            ///     assert_eq!(rx.recv().await, Some("b"));
            ///     assert_eq!(rx.recv().await, None);
            /// });
            /// ```
            pub fn recv(&mut self) -> Recv<'_, T> {
                Recv { rx: &mut self.rx }
            }

            /// Takes the next value if one is buffered.
            ///
            /// # Errors
            ///
            /// [`TryRecvError::Empty`] if nothing is buffered now,
            /// [`TryRecvError::Disconnected`] if nothing is buffered and
            /// nothing will come.
            pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
                self.rx.try_recv()
            }

            /// Waits for at least one value, then appends up to `limit`
            /// buffered values to `buffer` and returns how many. Returns 0
            /// at once if `limit` is 0, and 0 once the channel is closed and
            /// drained.
            ///
            /// # Examples
            ///
            /// ```
            /// use sync_primitives::mpsc;
            ///
            /// runtime::block_on(async {
            #[doc = concat!("    let (tx, mut rx) = ", $make, ";")]
            ///     for x in 0..5 {
            #[doc = concat!("        ", $send, ";")]
            ///     }
            ///     let mut buffer = Vec::new();
            ///     assert_eq!(rx.recv_many(&mut buffer, 3).await, 3);
            ///     assert_eq!(rx.recv_many(&mut buffer, 3).await, 2);
            ///     assert_eq!(buffer, [0, 1, 2, 3, 4]);
            /// });
            /// ```
            pub fn recv_many<'a>(
                &'a mut self,
                buffer: &'a mut Vec<T>,
                limit: usize,
            ) -> RecvMany<'a, T> {
                RecvMany {
                    rx: &mut self.rx,
                    buffer,
                    limit,
                }
            }

            /// Closes the channel without dropping the receiver: sends fail
            #[doc = concat!("from now on", $on_close, ", values already sent can")]
            /// still be received.
            pub fn close(&mut self) {
                self.rx.close();
            }

            /// How many values are buffered.
            pub fn len(&self) -> usize {
                self.rx.len()
            }

            /// Whether no value is buffered.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// Whether the channel is closed: every sender dropped, or
            #[doc = concat!("[`close`](", stringify!($Receiver), "::close) called.")]
            pub fn is_closed(&self) -> bool {
                self.rx.is_closed()
            }
        }

        impl<T> Stream for $Receiver<T> {
            type Item = T;

            fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
                self.rx.poll_recv(cx)
            }
        }

        impl<T> fmt::Debug for $Receiver<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($Receiver))
                    .field("chan", &self.rx)
                    .finish()
            }
        }
    };
}
