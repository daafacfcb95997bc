//! The line at the top of a report: when, on how many cores, and how the
//! benchmarks were run.

use std::time::{SystemTime, UNIX_EPOCH};

/// Formats a time as `date -u` would in ISO form: `2026-11-25 06:01:07 UTC`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// assert_eq!(benches::report::header::format_utc(t), "2023-11-14 22:13:20 UTC");
/// ```
pub fn format_utc(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The report's header: a title, then one line with the date the report was
/// made, the machine's core count and the command the benchmarks ran with
/// (if known), then where the results came from; then `note` (the
/// conditions of the run, say), if any, and the legend of the ids.
pub fn render_header(
    generated: SystemTime,
    cores: usize,
    bench_command: Option<&str>,
    note: Option<&str>,
    results_dir: &str,
) -> String {
    let command = match bench_command {
        Some(c) => format!("`{c}`"),
        None => "not recorded (pass `--command`)".to_owned(),
    };
    let note = note.map_or_else(String::new, |n| format!("{n}\n\n"));
    format!(
        "# Benchmark results\n\n\
         {}, {cores} cores; benchmarks run with {command}; read from `{results_dir}` \
         by `cargo run -p benches --bin report`.\n\n\
         {note}\
         Ids: `ours/...` is this workspace, `floor...` a lower bound that no real \
         executor or primitive reaches, anything else the peer crate named first. \
         What each id runs is in the doc comment at the top of \
         `benches/benches/<group>.rs`.\n\n",
        format_utc(generated)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn utc_dates() {
        assert_eq!(format_utc(UNIX_EPOCH), "1970-01-01 00:00:00 UTC");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(format_utc(leap), "2000-02-29 00:00:00 UTC");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_583_491);
        assert_eq!(format_utc(t), "2026-11-25 05:11:31 UTC");
    }

    #[test]
    fn header_names_cores_and_command() {
        let h = render_header(UNIX_EPOCH, 2, Some("cargo bench"), None, "target/criterion");
        assert!(h.contains("1970-01-01 00:00:00 UTC, 2 cores; benchmarks run with `cargo bench`"));
        let h = render_header(UNIX_EPOCH, 8, None, Some("Quiet machine."), "x");
        assert!(h.contains("not recorded"));
        assert!(h.contains("by `cargo run -p benches --bin report`.\n\nQuiet machine.\n\nIds:"));
    }
}
