//! Grouping benchmarks into tables, the ratio to the best peer, and markdown.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Benchmark, Kind};

/// One row of a table: a contender, its kind and its ratio to the best peer.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The benchmark as criterion saved it.
    pub bench: Benchmark,
    /// Ours, peer or floor, from the function id.
    pub kind: Kind,
    /// This row's median ÷ the best (fastest) peer's median; `None` when the
    /// table has no peer.
    pub ratio_to_best_peer: Option<f64>,
}

/// The contenders of one workload: a criterion group, split by parameter
/// when the ids carry one (`BenchmarkId::new("ours", 1000)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The criterion group.
    pub group: String,
    /// The parameter shared by every row, if the ids carry one.
    pub value: Option<String>,
    /// Ours first, then peers, then floors; each fastest first.
    pub rows: Vec<Row>,
}

impl Table {
    /// `group` or `group / value`.
    pub fn title(&self) -> String {
        match &self.value {
            Some(v) => format!("{} / {}", self.group, v),
            None => self.group.clone(),
        }
    }

    /// The fastest row of `kind`.
    pub fn fastest(&self, kind: Kind) -> Option<&Row> {
        self.rows
            .iter()
            .filter(|r| r.kind == kind)
            .min_by(|a, b| by_median(&a.bench, &b.bench))
    }

    /// Our fastest entry's median ÷ the fastest peer's median: below 1 means
    /// we beat every peer on this workload.
    pub fn ours_over_best_peer(&self) -> Option<f64> {
        self.fastest(Kind::Ours)?.ratio_to_best_peer
    }
}

fn by_median(a: &Benchmark, b: &Benchmark) -> Ordering {
    a.median_ns.total_cmp(&b.median_ns)
}

/// Orders parameters numerically when both are numbers (`10` < `1000`),
/// as text otherwise.
fn by_value_order(a: &Option<String>, b: &Option<String>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.total_cmp(&y),
            _ => x.cmp(y),
        },
        _ => a.cmp(b),
    }
}

/// Groups benchmarks into tables (one per group and parameter), sorts the
/// rows and fills in each row's ratio to the fastest peer of its table.
pub fn build_tables(benches: Vec<Benchmark>) -> Vec<Table> {
    let mut by_key: BTreeMap<String, Vec<Benchmark>> = BTreeMap::new();
    for bench in benches {
        by_key.entry(bench.group.clone()).or_default().push(bench);
    }
    let mut tables = Vec::new();
    for (group, benches) in by_key {
        // A parameter splits tables only if the function id names the contender.
        let mut by_value: Vec<(Option<String>, Vec<Benchmark>)> = Vec::new();
        for bench in benches {
            let value = bench.function.as_ref().and(bench.value.clone());
            match by_value.iter_mut().find(|(v, _)| *v == value) {
                Some((_, list)) => list.push(bench),
                None => by_value.push((value, vec![bench])),
            }
        }
        by_value.sort_by(|a, b| by_value_order(&a.0, &b.0));
        for (value, benches) in by_value {
            tables.push(make_table(group.clone(), value, benches));
        }
    }
    tables
}

fn make_table(group: String, value: Option<String>, benches: Vec<Benchmark>) -> Table {
    let best_peer = benches
        .iter()
        .filter(|b| Kind::of(b.contender()) == Kind::Peer)
        .map(|b| b.median_ns)
        .min_by(f64::total_cmp);
    let mut rows: Vec<Row> = benches
        .into_iter()
        .map(|bench| Row {
            kind: Kind::of(bench.contender()),
            ratio_to_best_peer: best_peer.map(|p| bench.median_ns / p),
            bench,
        })
        .collect();
    rows.sort_by(|a, b| a.kind.cmp(&b.kind).then(by_median(&a.bench, &b.bench)));
    Table { group, value, rows }
}

/// Formats nanoseconds with three significant digits in the unit that
/// fits: `812 ns`, `81.2 µs`, `1.23 ms`, `2.50 s`.
pub fn format_duration(ns: f64) -> String {
    let (value, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{} {unit}", three_digits(value))
}

/// Three significant digits for numbers below 1000, whole numbers above.
fn three_digits(x: f64) -> String {
    let a = x.abs();
    if a >= 99.95 {
        format!("{x:.0}")
    } else if a >= 9.995 {
        format!("{x:.1}")
    } else if a >= 0.9995 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| format!("{r:.2}"))
}

fn contender_with_median(row: Option<&Row>) -> String {
    row.map_or_else(
        || "—".to_owned(),
        |r| {
            format!(
                "`{}` ({})",
                r.bench.contender(),
                format_duration(r.bench.median_ns)
            )
        },
    )
}

/// Renders a summary (each of our entries ÷ the best peer of its
/// workload) and then one markdown table per workload.
pub fn render_markdown(tables: &[Table]) -> String {
    let mut out = String::new();
    out.push_str("## Summary: ours ÷ best peer\n\n");
    out.push_str(
        "Each of our entries' median time per iteration divided by the fastest peer's \
         on the same workload; below 1.00 means faster than every peer.\n\n",
    );
    out.push_str("| workload | ours | best peer | ours ÷ best peer |\n");
    out.push_str("|---|---|---|---:|\n");
    for t in tables {
        let peer = contender_with_median(t.fastest(Kind::Peer));
        let ours: Vec<&Row> = t.rows.iter().filter(|r| r.kind == Kind::Ours).collect();
        if ours.is_empty() {
            let _ = writeln!(out, "| {} | — | {peer} | — |", t.title());
        }
        for r in ours {
            let _ = writeln!(
                out,
                "| {} | {} | {peer} | {} |",
                t.title(),
                contender_with_median(Some(r)),
                ratio(r.ratio_to_best_peer),
            );
        }
    }
    for t in tables {
        out.push('\n');
        render_table(&mut out, t);
    }
    out
}

fn render_table(out: &mut String, t: &Table) {
    let _ = writeln!(out, "## {}\n", t.title());
    let throughputs: Vec<_> = t.rows.iter().map(|r| r.bench.throughput).collect();
    let shared = throughputs
        .first()
        .copied()
        .flatten()
        .filter(|first| throughputs.iter().all(|t| *t == Some(*first)));
    let per_op = match shared {
        Some(tp) => {
            let _ = write!(out, "{} {}s per iteration. ", tp.count(), tp.unit());
            format!("ns / {}", tp.unit())
        }
        None => "ns / op".to_owned(),
    };
    match t.fastest(Kind::Peer) {
        Some(p) => {
            let _ = writeln!(
                out,
                "Ratio: median ÷ the best peer's (`{}`).\n",
                p.bench.contender()
            );
        }
        None => out.push_str("No peer in this group: no ratio.\n\n"),
    }
    let _ = writeln!(
        out,
        "| contender | kind | median / iteration | {per_op} | ÷ best peer |"
    );
    out.push_str("|---|---|---:|---:|---:|\n");
    for r in &t.rows {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            r.bench.contender(),
            r.kind,
            format_duration(r.bench.median_ns),
            r.bench
                .ns_per_op()
                .map_or_else(|| "—".to_owned(), three_digits),
            ratio(r.ratio_to_best_peer),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{parse_benchmark, Throughput};

    fn bench(group: &str, function: &str, value: Option<&str>, median_ns: f64) -> Benchmark {
        Benchmark {
            group: group.to_owned(),
            function: Some(function.to_owned()),
            value: value.map(str::to_owned),
            throughput: Some(Throughput::Elements(1_000)),
            median_ns,
        }
    }

    #[test]
    fn ratio_is_to_the_fastest_peer_never_ours_or_floor() {
        let tables = build_tables(vec![
            bench("event", "tokio/notify", None, 300_000.0),
            bench("event", "ours/event", None, 150_000.0),
            bench("event", "floor", None, 10_000.0),
            bench("event", "event-listener/event", None, 200_000.0),
            bench("event", "ours/waiter", None, 400_000.0),
        ]);
        assert_eq!(tables.len(), 1);
        let t = &tables[0];
        let ids: Vec<_> = t.rows.iter().map(|r| r.bench.contender()).collect();
        assert_eq!(
            ids,
            [
                "ours/event",
                "ours/waiter",
                "event-listener/event",
                "tokio/notify",
                "floor"
            ]
        );
        let ratios: Vec<_> = t
            .rows
            .iter()
            .map(|r| r.ratio_to_best_peer.unwrap())
            .collect();
        assert_eq!(ratios, [0.75, 2.0, 1.0, 1.5, 0.05]);
        assert_eq!(t.ours_over_best_peer(), Some(0.75));
        assert_eq!(
            t.fastest(Kind::Peer).unwrap().bench.contender(),
            "event-listener/event"
        );
    }

    #[test]
    fn no_peer_means_no_ratio() {
        let tables = build_tables(vec![
            bench("solo", "ours/a", None, 2.0),
            bench("solo", "floor", None, 1.0),
        ]);
        assert!(tables[0]
            .rows
            .iter()
            .all(|r| r.ratio_to_best_peer.is_none()));
        assert_eq!(tables[0].ours_over_best_peer(), None);
        let md = render_markdown(&tables);
        assert!(md.contains("| solo | `ours/a` (2.00 ns) | — | — |"), "{md}");
        assert!(md.contains("No peer in this group"), "{md}");
    }

    #[test]
    fn parameters_split_tables_in_numeric_order() {
        let tables = build_tables(vec![
            bench("gather", "ours", Some("1000"), 50.0),
            bench("gather", "futures/join_all", Some("1000"), 100.0),
            bench("gather", "ours", Some("10"), 9.0),
            bench("gather", "futures/join_all", Some("10"), 3.0),
            bench("alpha", "ours", None, 1.0),
        ]);
        let titles: Vec<_> = tables.iter().map(Table::title).collect();
        assert_eq!(titles, ["alpha", "gather / 10", "gather / 1000"]);
        assert_eq!(tables[1].ours_over_best_peer(), Some(3.0));
        assert_eq!(tables[2].ours_over_best_peer(), Some(0.5));
    }

    #[test]
    fn from_parameter_ids_stay_in_one_table() {
        // `BenchmarkId::from_parameter("ours")`: no function id, the value names the contender.
        let mut a = bench("g", "x", Some("ours"), 4.0);
        a.function = None;
        let mut b = bench("g", "x", Some("tokio"), 2.0);
        b.function = None;
        let tables = build_tables(vec![a, b]);
        assert_eq!(tables.len(), 1);
        assert_eq!(tables[0].ours_over_best_peer(), Some(2.0));
    }

    #[test]
    fn renders_markdown_from_fixture_files() {
        let parsed = [
            (
                r#"{"group_id":"mutex","function_id":"ours/mutex","value_str":"uncontended","throughput":{"Elements":1000}}"#,
                r#"{"median":{"point_estimate":12500.0}}"#,
            ),
            (
                r#"{"group_id":"mutex","function_id":"tokio/mutex","value_str":"uncontended","throughput":{"Elements":1000}}"#,
                r#"{"median":{"point_estimate":25000.0}}"#,
            ),
            (
                r#"{"group_id":"mutex","function_id":"floor/parking_lot","value_str":"uncontended","throughput":{"Elements":1000}}"#,
                r#"{"median":{"point_estimate":5000.0}}"#,
            ),
        ]
        .iter()
        .map(|(b, e)| parse_benchmark(b, e).unwrap())
        .collect();
        let md = render_markdown(&build_tables(parsed));
        let expected = "\
## Summary: ours ÷ best peer

Each of our entries' median time per iteration divided by the fastest peer's on the same workload; below 1.00 means faster than every peer.

| workload | ours | best peer | ours ÷ best peer |
|---|---|---|---:|
| mutex / uncontended | `ours/mutex` (12.5 µs) | `tokio/mutex` (25.0 µs) | 0.50 |

## mutex / uncontended

1000 elements per iteration. Ratio: median ÷ the best peer's (`tokio/mutex`).

| contender | kind | median / iteration | ns / element | ÷ best peer |
|---|---|---:|---:|---:|
| `ours/mutex` | ours | 12.5 µs | 12.5 | 0.50 |
| `tokio/mutex` | peer | 25.0 µs | 25.0 | 1.00 |
| `floor/parking_lot` | floor | 5.00 µs | 5.00 | 0.20 |
";
        assert_eq!(md, expected);
    }

    #[test]
    fn durations_pick_a_unit() {
        assert_eq!(format_duration(0.5), "0.500 ns");
        assert_eq!(format_duration(812.0), "812 ns");
        assert_eq!(format_duration(81_240.0), "81.2 µs");
        assert_eq!(format_duration(999_999.0), "1000 µs");
        assert_eq!(format_duration(1_234_000.0), "1.23 ms");
        assert_eq!(format_duration(2.5e9), "2.50 s");
    }
}
