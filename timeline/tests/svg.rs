//! The SVG is well-formed XML with one lane per task and one bar per poll,
//! readable at 100 tasks.

use std::time::Duration;
use timeline::Timeline;

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

/// 100 tasks, task `i` polled `i % 5 + 1` times, woken before each poll
/// but the first; a worker lane with parked spans.
fn hundred_tasks() -> (Timeline, usize) {
    let mut timeline = Timeline::new("100 tasks <& \"quoted\">");
    timeline.group("run 1");
    let worker = timeline.lane("worker 0");
    timeline.idle(worker, us(10), us(20));
    let mut polls = 0;
    for i in 0..100u64 {
        let lane = timeline.lane(format!("task {i}"));
        let n = i % 5 + 1;
        for k in 0..n {
            let start = us(i * 3 + k * 40);
            if k > 0 {
                timeline.wake(lane, start - us(2));
            }
            timeline.poll(lane, start, start + us(1), k == n - 1);
            polls += 1;
        }
    }
    (timeline, polls)
}

#[test]
fn svg_parses_with_a_lane_per_task_and_a_bar_per_poll() {
    let (timeline, polls) = hundred_tasks();
    assert_eq!(timeline.lanes(), 101);
    let svg = timeline.to_svg();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let has_class = |node: &roxmltree::Node<'_, '_>, class: &str| {
        node.attribute("class")
            .is_some_and(|c| c.split(' ').any(|word| word == class))
    };
    let lanes: Vec<_> = doc.descendants().filter(|n| has_class(n, "lane")).collect();
    assert_eq!(lanes.len(), 101, "one lane per task, plus the worker's");
    let bars = doc.descendants().filter(|n| has_class(n, "poll")).count();
    assert_eq!(bars, polls);
    let ready = doc.descendants().filter(|n| has_class(n, "ready")).count();
    assert_eq!(ready, 100, "each task's last poll");
    let wakes = doc.descendants().filter(|n| has_class(n, "wake")).count();
    assert_eq!(wakes, polls - 100);
    assert_eq!(
        doc.descendants().filter(|n| has_class(n, "idle")).count(),
        1
    );
    // Labels, escaped and parsed back, with their poll counts.
    let title = doc.descendants().find(|n| has_class(n, "title")).unwrap();
    assert_eq!(title.text(), Some("100 tasks <& \"quoted\">"));
    let label_of = |lane: &roxmltree::Node<'_, '_>| {
        let label = lane
            .children()
            .find(|n| has_class(n, "label"))
            .expect("a label per lane");
        label
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect::<String>()
    };
    assert_eq!(label_of(&lanes[1]), "task 0 · 1 poll");
    assert_eq!(label_of(&lanes[100]), "task 99 · 5 polls");
    // A legend naming every mark.
    let legend = doc.descendants().find(|n| has_class(n, "legend")).unwrap();
    let text: String = legend
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    for item in ["poll (pending)", "poll (ready)", "wake-up", "worker parked"] {
        assert!(text.contains(item), "{item} in the legend");
    }
    // Readable at 100 tasks: every lane at least 12 units high.
    let height: f64 = root.attribute("height").unwrap().parse().unwrap();
    assert!(height >= 101.0 * 12.0);
}

#[test]
fn groups_share_one_scale_and_have_their_own_origin() {
    let mut timeline = Timeline::new("two runs");
    timeline.group("short, late");
    let a = timeline.lane("a");
    timeline.poll(a, Duration::from_secs(100), Duration::from_secs(101), true);
    timeline.group("long");
    let b = timeline.lane("b");
    timeline.poll(b, Duration::from_secs(0), Duration::from_secs(1), false);
    timeline.poll(b, Duration::from_secs(9), Duration::from_secs(10), true);
    let svg = timeline.to_svg();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let xs: Vec<(f64, f64)> = doc
        .descendants()
        .filter(|n| n.attribute("class").is_some_and(|c| c.starts_with("poll")))
        .map(|n| {
            let x: f64 = n.attribute("x").unwrap().parse().unwrap();
            let w: f64 = n.attribute("width").unwrap().parse().unwrap();
            (x, w)
        })
        .collect();
    assert_eq!(xs.len(), 3);
    // Each group starts at the plot's left edge; a second is as wide in both.
    assert_eq!(xs[0].0, xs[1].0);
    assert!((xs[0].1 - xs[1].1).abs() < 0.01);
    assert!(xs[2].0 > xs[1].0 + 8.0 * xs[1].1);
}

#[test]
fn empty_timeline_is_still_a_document() {
    let svg = Timeline::new("nothing").to_svg();
    roxmltree::Document::parse(&svg).expect("well-formed XML");
}
