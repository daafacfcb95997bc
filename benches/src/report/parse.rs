//! Parsing criterion's `benchmark.json` and `estimates.json`.

use std::fmt;

use serde_json::Value;

/// How much work one iteration does, from criterion's `Throughput`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throughput {
    /// `Throughput::Elements(n)`: n operations per iteration.
    Elements(u64),
    /// `Throughput::Bytes(n)` or `BytesDecimal(n)`: n bytes per iteration.
    Bytes(u64),
}

impl Throughput {
    /// The number of elements or bytes per iteration.
    pub fn count(self) -> u64 {
        match self {
            Throughput::Elements(n) | Throughput::Bytes(n) => n,
        }
    }

    /// The unit's name, singular: `element` or `byte`.
    pub fn unit(self) -> &'static str {
        match self {
            Throughput::Elements(_) => "element",
            Throughput::Bytes(_) => "byte",
        }
    }
}

/// One benchmark's ids and median time, as criterion saved them.
#[derive(Debug, Clone, PartialEq)]
pub struct Benchmark {
    /// The criterion group (`spawn_many`).
    pub group: String,
    /// The function id (`ours/current_thread`), if the id has one.
    pub function: Option<String>,
    /// The parameter (`BenchmarkId::new(function, parameter)`), if any.
    pub value: Option<String>,
    /// Work per iteration, if the group declared it.
    pub throughput: Option<Throughput>,
    /// The median time of one iteration, in nanoseconds.
    pub median_ns: f64,
}

impl Benchmark {
    /// The contender's name within its table: the function id, or else the
    /// parameter, or else the group.
    pub fn contender(&self) -> &str {
        self.function
            .as_deref()
            .or(self.value.as_deref())
            .unwrap_or(&self.group)
    }

    /// The median time per element (or byte), in nanoseconds.
    pub fn ns_per_op(&self) -> Option<f64> {
        match self.throughput {
            Some(t) if t.count() > 0 => Some(self.median_ns / t.count() as f64),
            _ => None,
        }
    }
}

/// A `benchmark.json` or `estimates.json` that is not what criterion writes.
#[derive(Debug)]
pub enum ParseError {
    /// Not JSON at all.
    Json(serde_json::Error),
    /// JSON without a field the report needs (its path, e.g. `median.point_estimate`).
    Missing(&'static str),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Json(e) => write!(f, "invalid JSON: {e}"),
            ParseError::Missing(field) => write!(f, "missing or mistyped field `{field}`"),
        }
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ParseError::Json(e) => Some(e),
            ParseError::Missing(_) => None,
        }
    }
}

impl From<serde_json::Error> for ParseError {
    fn from(e: serde_json::Error) -> ParseError {
        ParseError::Json(e)
    }
}

/// Parses one benchmark from the text of its `benchmark.json` and its
/// `estimates.json`.
///
/// ```
/// let bench = benches::report::parse_benchmark(
///     r#"{"group_id":"mutex","function_id":"ours/mutex","value_str":"uncontended",
///         "throughput":{"Elements":1000}}"#,
///     r#"{"median":{"point_estimate":25000.0}}"#,
/// )
/// .unwrap();
/// assert_eq!(bench.contender(), "ours/mutex");
/// assert_eq!(bench.ns_per_op(), Some(25.0));
/// ```
pub fn parse_benchmark(
    benchmark_json: &str,
    estimates_json: &str,
) -> Result<Benchmark, ParseError> {
    let id: Value = serde_json::from_str(benchmark_json)?;
    let estimates: Value = serde_json::from_str(estimates_json)?;

    let group = id
        .get("group_id")
        .and_then(Value::as_str)
        .ok_or(ParseError::Missing("group_id"))?
        .to_owned();
    let optional_str = |field: &'static str| -> Result<Option<String>, ParseError> {
        match id.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ParseError::Missing(field)),
        }
    };
    let function = optional_str("function_id")?;
    let value = optional_str("value_str")?;
    let throughput = match id.get("throughput") {
        None | Some(Value::Null) => None,
        Some(t) => Some(parse_throughput(t)?),
    };
    let median_ns = estimates
        .get("median")
        .and_then(|m| m.get("point_estimate"))
        .and_then(Value::as_f64)
        .ok_or(ParseError::Missing("median.point_estimate"))?;

    Ok(Benchmark {
        group,
        function,
        value,
        throughput,
        median_ns,
    })
}

/// Criterion serialises `Throughput` as `{"Elements": n}`, `{"Bytes": n}`
/// or `{"BytesDecimal": n}`.
fn parse_throughput(t: &Value) -> Result<Throughput, ParseError> {
    let missing = ParseError::Missing("throughput");
    let obj = t.as_object().ok_or(missing)?;
    let count = |key: &str| obj.get(key).and_then(Value::as_u64);
    if let Some(n) = count("Elements") {
        Ok(Throughput::Elements(n))
    } else if let Some(n) = count("Bytes").or_else(|| count("BytesDecimal")) {
        Ok(Throughput::Bytes(n))
    } else {
        Err(ParseError::Missing("throughput"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trimmed from a real `target/criterion/spawn_many/ours_current_thread/new/`.
    const BENCHMARK: &str = r#"{"group_id":"spawn_many","function_id":"ours/current_thread","value_str":null,"throughput":{"Elements":10000},"full_id":"spawn_many/ours/current_thread","directory_name":"spawn_many/ours_current_thread","title":"spawn_many/ours/current_thread"}"#;
    const ESTIMATES: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1210000.5,"upper_bound":1260000.25},"point_estimate":1234567.0,"standard_error":1000.0},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1190000.0,"upper_bound":1210000.0},"point_estimate":1200000.0,"standard_error":900.0},"median_abs_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":1.5,"standard_error":0.1},"slope":null,"std_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":1.5,"standard_error":0.1}}"#;

    #[test]
    fn parses_criterion_files() {
        let b = parse_benchmark(BENCHMARK, ESTIMATES).unwrap();
        assert_eq!(b.group, "spawn_many");
        assert_eq!(b.function.as_deref(), Some("ours/current_thread"));
        assert_eq!(b.value, None);
        assert_eq!(b.throughput, Some(Throughput::Elements(10_000)));
        assert_eq!(b.median_ns, 1_200_000.0);
        assert_eq!(b.ns_per_op(), Some(120.0));
        assert_eq!(b.contender(), "ours/current_thread");
    }

    #[test]
    fn parameter_and_bytes_and_no_throughput() {
        let b = parse_benchmark(
            r#"{"group_id":"gather","function_id":"ours","value_str":"1000","throughput":{"BytesDecimal":8}}"#,
            r#"{"median":{"point_estimate":16}}"#,
        )
        .unwrap();
        assert_eq!(b.value.as_deref(), Some("1000"));
        assert_eq!(b.throughput, Some(Throughput::Bytes(8)));
        assert_eq!(b.ns_per_op(), Some(2.0));

        let b = parse_benchmark(
            r#"{"group_id":"solo"}"#,
            r#"{"median":{"point_estimate":5.5}}"#,
        )
        .unwrap();
        assert_eq!(b.contender(), "solo");
        assert_eq!(b.throughput, None);
        assert_eq!(b.ns_per_op(), None);
    }

    #[test]
    fn reports_what_is_wrong() {
        let err = parse_benchmark("{", ESTIMATES).unwrap_err();
        assert!(matches!(err, ParseError::Json(_)), "{err}");
        let err = parse_benchmark(r#"{"function_id":"x"}"#, ESTIMATES).unwrap_err();
        assert_eq!(err.to_string(), "missing or mistyped field `group_id`");
        let err = parse_benchmark(BENCHMARK, r#"{"mean":{"point_estimate":1}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing or mistyped field `median.point_estimate`"
        );
        let err = parse_benchmark(r#"{"group_id":"g","throughput":{"Furlongs":3}}"#, ESTIMATES)
            .unwrap_err();
        assert_eq!(err.to_string(), "missing or mistyped field `throughput`");
    }
}
