//! A task timeline drawn as a self-contained SVG: one lane per task
//! (labelled, with its poll count), a bar per poll, a tick per wake-up, the
//! gaps between polls left empty (a thin line shows the task is alive and
//! idle), the worker's parked time shaded, and a legend.
//!
//! The crate knows nothing of any runtime: a caller adds lanes and their
//! polls, wake-ups and idle spans (for instance from the events recorded by
//! `runtime::Builder::record_events`) and asks for the SVG. Lanes can be put
//! in [groups](Timeline::group), drawn one above the other, each with its
//! own time origin (its first mark) and all on the same scale, so that two
//! runs can be compared side by side.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use timeline::Timeline;
//!
//! let ms = Duration::from_millis;
//! let mut timeline = Timeline::new("two tasks");
//! let a = timeline.lane("a");
//! let b = timeline.lane("b");
//! timeline.poll(a, ms(0), ms(1), false);
//! timeline.wake(a, ms(3));
//! timeline.poll(a, ms(3), ms(4), true);
//! timeline.poll(b, ms(1), ms(2), true);
//! let svg = timeline.to_svg();
//! assert!(svg.starts_with("<svg"));
//! assert_eq!(svg.matches("class=\"poll").count(), 3);
//! ```

use std::fmt::Write as _;
use std::time::Duration;

/// Identifies a lane of a [`Timeline`] (returned by [`Timeline::lane`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LaneId(usize);

/// One poll of a task: from `start` to `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Poll {
    start: Duration,
    end: Duration,
    /// The task completed in this poll.
    ready: bool,
}

#[derive(Debug, Clone, Default)]
struct Lane {
    label: String,
    group: usize,
    polls: Vec<Poll>,
    wakes: Vec<Duration>,
    /// Shaded spans (a worker parked, say).
    idle: Vec<(Duration, Duration)>,
}

impl Lane {
    fn marks(&self) -> impl Iterator<Item = Duration> + '_ {
        self.polls
            .iter()
            .flat_map(|p| [p.start, p.end])
            .chain(self.wakes.iter().copied())
            .chain(self.idle.iter().flat_map(|&(a, b)| [a, b]))
    }
}

/// A timeline being built; [`to_svg`](Timeline::to_svg) draws it.
#[derive(Debug, Clone)]
pub struct Timeline {
    title: String,
    groups: Vec<String>,
    lanes: Vec<Lane>,
}

/// Layout, in SVG user units (pixels).
const LABEL_WIDTH: f64 = 170.0;
const PLOT_WIDTH: f64 = 900.0;
const MARGIN: f64 = 12.0;
const LANE_HEIGHT: f64 = 14.0;
const BAR_HEIGHT: f64 = 10.0;
const GROUP_HEADER: f64 = 44.0;
const TITLE_HEIGHT: f64 = 28.0;
const LEGEND_HEIGHT: f64 = 30.0;
/// A poll shorter than this is still drawn this wide, so that it shows.
const MIN_BAR: f64 = 1.0;

const POLL_COLOR: &str = "#3b75c4";
const READY_COLOR: &str = "#2e9e44";
const WAKE_COLOR: &str = "#d9480f";
const IDLE_COLOR: &str = "#d0d0d0";
const ALIVE_COLOR: &str = "#9aa5b1";

impl Timeline {
    /// An empty timeline with a title (drawn at the top).
    pub fn new(title: impl Into<String>) -> Timeline {
        Timeline {
            title: title.into(),
            groups: Vec::new(),
            lanes: Vec::new(),
        }
    }

    /// Starts a new group of lanes, drawn below the previous one under its
    /// own `title`, with its own time origin. Lanes added before any group
    /// go in an untitled first group.
    pub fn group(&mut self, title: impl Into<String>) {
        self.groups.push(title.into());
    }

    /// Adds a lane (drawn in the order added) to the current group.
    pub fn lane(&mut self, label: impl Into<String>) -> LaneId {
        if self.groups.is_empty() {
            self.groups.push(String::new());
        }
        self.lanes.push(Lane {
            label: label.into(),
            group: self.groups.len() - 1,
            ..Lane::default()
        });
        LaneId(self.lanes.len() - 1)
    }

    /// Records a poll of `lane` from `start` to `end`; `ready`: the task
    /// completed in it (drawn in another colour).
    ///
    /// # Panics
    ///
    /// Panics if `lane` is not a lane of this timeline.
    pub fn poll(&mut self, lane: LaneId, start: Duration, end: Duration, ready: bool) {
        self.lanes[lane.0].polls.push(Poll {
            start,
            end: end.max(start),
            ready,
        });
    }

    /// Records a wake-up of `lane` at `at`.
    ///
    /// # Panics
    ///
    /// Panics if `lane` is not a lane of this timeline.
    pub fn wake(&mut self, lane: LaneId, at: Duration) {
        self.lanes[lane.0].wakes.push(at);
    }

    /// Records a shaded span of `lane` (a worker parked, say).
    ///
    /// # Panics
    ///
    /// Panics if `lane` is not a lane of this timeline.
    pub fn idle(&mut self, lane: LaneId, start: Duration, end: Duration) {
        self.lanes[lane.0].idle.push((start, end.max(start)));
    }

    /// The number of lanes.
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }

    /// The number of polls recorded in `lane`.
    ///
    /// # Panics
    ///
    /// Panics if `lane` is not a lane of this timeline.
    pub fn polls(&self, lane: LaneId) -> usize {
        self.lanes[lane.0].polls.len()
    }

    /// The time span of group `group`: its first and last mark.
    fn span(&self, group: usize) -> (Duration, Duration) {
        let mut marks = self
            .lanes
            .iter()
            .filter(|l| l.group == group)
            .flat_map(Lane::marks)
            .peekable();
        let Some(&first) = marks.peek() else {
            return (Duration::ZERO, Duration::ZERO);
        };
        marks.fold((first, first), |(lo, hi), t| (lo.min(t), hi.max(t)))
    }

    /// Draws the timeline: a standalone SVG document (no scripts, no
    /// external resources).
    pub fn to_svg(&self) -> String {
        let spans: Vec<(Duration, Duration)> =
            (0..self.groups.len()).map(|g| self.span(g)).collect();
        // One scale for every group: the longest one fills the plot.
        let longest = spans
            .iter()
            .map(|&(lo, hi)| hi - lo)
            .max()
            .unwrap_or_default()
            .max(Duration::from_nanos(1));
        let scale = PLOT_WIDTH / longest.as_secs_f64();
        let height = TITLE_HEIGHT
            + self.groups.len() as f64 * GROUP_HEADER
            + self.lanes.len() as f64 * LANE_HEIGHT
            + LEGEND_HEIGHT
            + 2.0 * MARGIN;
        let width = LABEL_WIDTH + PLOT_WIDTH + 2.0 * MARGIN + 20.0;
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">"#
        );
        let _ = writeln!(
            svg,
            r#"<rect class="background" x="0" y="0" width="{width}" height="{height}" fill="white"/>"#
        );
        let _ = writeln!(
            svg,
            r#"<text class="title" x="{MARGIN}" y="{}" font-size="15" font-weight="bold">{}</text>"#,
            MARGIN + 12.0,
            escape(&self.title)
        );
        let x0 = MARGIN + LABEL_WIDTH;
        let mut y = MARGIN + TITLE_HEIGHT;
        for (group, title) in self.groups.iter().enumerate() {
            let origin = spans[group].0;
            let x = |t: Duration| x0 + t.saturating_sub(origin).as_secs_f64() * scale;
            let lanes: Vec<&Lane> = self.lanes.iter().filter(|l| l.group == group).collect();
            let _ = writeln!(svg, r#"<g class="group">"#);
            let _ = writeln!(
                svg,
                r#"<text class="group-title" x="{MARGIN}" y="{}" font-size="13" font-weight="bold">{}</text>"#,
                y + 13.0,
                escape(title)
            );
            self.axis(&mut svg, y + 34.0, longest, scale);
            y += GROUP_HEADER;
            for lane in lanes {
                self.draw_lane(&mut svg, lane, y, &x);
                y += LANE_HEIGHT;
            }
            let _ = writeln!(svg, "</g>");
        }
        self.legend(&mut svg, y + 10.0);
        svg.push_str("</svg>\n");
        svg
    }

    /// A time axis: a tick at every round step, labelled.
    fn axis(&self, svg: &mut String, y: f64, longest: Duration, scale: f64) {
        let x0 = MARGIN + LABEL_WIDTH;
        let step = nice_step(longest.as_secs_f64() / 8.0);
        let _ = writeln!(
            svg,
            r##"<line class="axis" x1="{x0}" y1="{y}" x2="{}" y2="{y}" stroke="#666" stroke-width="0.5"/>"##,
            x0 + PLOT_WIDTH
        );
        let mut t = 0.0;
        while t <= longest.as_secs_f64() * 1.0001 {
            let x = x0 + t * scale;
            let _ = writeln!(
                svg,
                r##"<line x1="{x:.2}" y1="{}" x2="{x:.2}" y2="{y}" stroke="#666" stroke-width="0.5"/><text x="{x:.2}" y="{}" font-size="9" text-anchor="middle" fill="#444">{}</text>"##,
                y - 3.0,
                y - 5.0,
                format_time(t)
            );
            t += step;
        }
    }

    fn draw_lane(&self, svg: &mut String, lane: &Lane, y: f64, x: &dyn Fn(Duration) -> f64) {
        let mid = y + LANE_HEIGHT / 2.0;
        let _ = writeln!(svg, r#"<g class="lane">"#);
        let polls = lane.polls.len();
        // A lane without polls or wake-ups is not a task's (a worker's
        // parked time): no poll count.
        let count = if polls == 0 && lane.wakes.is_empty() {
            String::new()
        } else {
            let plural = if polls == 1 { "" } else { "s" };
            format!(r##"<tspan fill="#666"> · {polls} poll{plural}</tspan>"##)
        };
        let _ = writeln!(
            svg,
            r#"<text class="label" x="{MARGIN}" y="{:.2}">{}{count}</text>"#,
            mid + 4.0,
            escape(&lane.label)
        );
        for &(start, end) in &lane.idle {
            let _ = writeln!(
                svg,
                r#"<rect class="idle" x="{:.2}" y="{:.2}" width="{:.2}" height="{LANE_HEIGHT}" fill="{IDLE_COLOR}"/>"#,
                x(start),
                y,
                (x(end) - x(start)).max(MIN_BAR)
            );
        }
        // Alive and idle: a thin line from the first mark to the last.
        let mut marks = lane.marks();
        if let Some(first) = marks.next() {
            let (lo, hi) = marks.fold((first, first), |(lo, hi), t| (lo.min(t), hi.max(t)));
            let _ = writeln!(
                svg,
                r#"<line class="alive" x1="{:.2}" y1="{mid:.2}" x2="{:.2}" y2="{mid:.2}" stroke="{ALIVE_COLOR}" stroke-width="1"/>"#,
                x(lo),
                x(hi)
            );
        }
        for poll in &lane.polls {
            let (class, color) = if poll.ready {
                ("poll ready", READY_COLOR)
            } else {
                ("poll", POLL_COLOR)
            };
            let _ = writeln!(
                svg,
                r#"<rect class="{class}" x="{:.2}" y="{:.2}" width="{:.2}" height="{BAR_HEIGHT}" fill="{color}"/>"#,
                x(poll.start),
                mid - BAR_HEIGHT / 2.0,
                (x(poll.end) - x(poll.start)).max(MIN_BAR)
            );
        }
        for &at in &lane.wakes {
            let _ = writeln!(
                svg,
                r#"<line class="wake" x1="{0:.2}" y1="{1:.2}" x2="{0:.2}" y2="{2:.2}" stroke="{WAKE_COLOR}" stroke-width="1.5"/>"#,
                x(at),
                y,
                y + LANE_HEIGHT
            );
        }
        let _ = writeln!(svg, "</g>");
    }

    fn legend(&self, svg: &mut String, y: f64) {
        let _ = writeln!(svg, r#"<g class="legend">"#);
        let mut x = MARGIN;
        let items: [(&str, &str); 5] = [
            ("poll (pending)", POLL_COLOR),
            ("poll (ready)", READY_COLOR),
            ("wake-up", WAKE_COLOR),
            ("alive, not running", ALIVE_COLOR),
            ("worker parked", IDLE_COLOR),
        ];
        for (text, color) in items {
            match text {
                "wake-up" => {
                    let _ = write!(
                        svg,
                        r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{color}" stroke-width="1.5"/>"#,
                        x + 5.0,
                        y,
                        y + 12.0
                    );
                }
                "alive, not running" => {
                    let _ = write!(
                        svg,
                        r#"<line x1="{x}" y1="{0}" x2="{1}" y2="{0}" stroke="{color}" stroke-width="1"/>"#,
                        y + 6.0,
                        x + 12.0
                    );
                }
                _ => {
                    let _ = write!(
                        svg,
                        r#"<rect x="{x}" y="{0}" width="12" height="{BAR_HEIGHT}" fill="{color}"/>"#,
                        y + 1.0
                    );
                }
            }
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{}">{text}</text>"#,
                x + 16.0,
                y + 10.0
            );
            x += 30.0 + 7.0 * text.len() as f64;
        }
        let _ = writeln!(svg, "</g>");
    }
}

/// A round step (1, 2 or 5 times a power of ten seconds) near `rough`.
fn nice_step(rough: f64) -> f64 {
    if rough.is_nan() || rough <= 0.0 {
        return 1e-9;
    }
    let power = 10f64.powf(rough.log10().floor());
    let m = rough / power;
    let nice = if m < 1.5 {
        1.0
    } else if m < 3.5 {
        2.0
    } else if m < 7.5 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// `seconds` in the unit that reads best.
fn format_time(seconds: f64) -> String {
    let (value, unit) = if seconds == 0.0 {
        (0.0, "s")
    } else if seconds < 1e-6 {
        (seconds * 1e9, "ns")
    } else if seconds < 1e-3 {
        (seconds * 1e6, "µs")
    } else if seconds < 1.0 {
        (seconds * 1e3, "ms")
    } else {
        (seconds, "s")
    };
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {unit}")
}

/// Escapes text for XML content.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0.0011), 0.001);
        assert_eq!(nice_step(0.0024), 0.002);
        assert_eq!(nice_step(4.0), 5.0);
        assert_eq!(format_time(0.0025), "2.5 ms");
        assert_eq!(format_time(0.000_001), "1 µs");
        assert_eq!(escape("a<b&\"c\""), "a&lt;b&amp;&quot;c&quot;");
    }
}
