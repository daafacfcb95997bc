//! The naming rule that tells ours, peers and floors apart.

use std::fmt;

/// Where a contender comes from, read from the first `/`-separated segment
/// of its criterion function id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Our implementation: the id is `ours` or starts with `ours/`.
    Ours,
    /// Another crate's implementation: any other id; its first segment
    /// names the crate (`tokio/current_thread`, `async-lock/mutex`).
    Peer,
    /// A lower bound, not a real contender: `floor` or `floor/...`.
    Floor,
}

impl Kind {
    /// Classifies a criterion function id.
    ///
    /// ```
    /// use benches::report::Kind;
    /// assert_eq!(Kind::of("ours/multi_thread"), Kind::Ours);
    /// assert_eq!(Kind::of("tokio/multi_thread"), Kind::Peer);
    /// assert_eq!(Kind::of("floor"), Kind::Floor);
    /// ```
    pub fn of(function_id: &str) -> Kind {
        match function_id.split('/').next().unwrap_or("") {
            "ours" => Kind::Ours,
            "floor" => Kind::Floor,
            _ => Kind::Peer,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Ours => "ours",
            Kind::Peer => "peer",
            Kind::Floor => "floor",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_segment_decides() {
        assert_eq!(Kind::of("ours"), Kind::Ours);
        assert_eq!(Kind::of("ours/waiter"), Kind::Ours);
        assert_eq!(Kind::of("floor"), Kind::Floor);
        assert_eq!(Kind::of("floor/parking_lot"), Kind::Floor);
        assert_eq!(Kind::of("futures/local_pool"), Kind::Peer);
        assert_eq!(Kind::of("event-listener/event"), Kind::Peer);
    }

    #[test]
    fn prefix_must_be_a_whole_segment() {
        assert_eq!(Kind::of("oursx"), Kind::Peer);
        assert_eq!(Kind::of("flooring/x"), Kind::Peer);
        assert_eq!(Kind::of(""), Kind::Peer);
    }
}
