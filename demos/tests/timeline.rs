//! `demos waiter --timeline FILE` and `demos mutex --timeline FILE`: the
//! transcript is unchanged but for a last line, and the SVG has the lanes
//! the chapter's point needs: ours polled twice, the spinning one 12 times.

use std::path::PathBuf;
use std::process::Command;

fn run_with_timeline(args: &[&str], name: &str) -> (String, String, String) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demos-timeline");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let with = Command::new(env!("CARGO_BIN_EXE_demos"))
        .args(args)
        .arg("--timeline")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    let without = Command::new(env!("CARGO_BIN_EXE_demos"))
        .args(args)
        .output()
        .unwrap();
    assert!(without.status.success());
    (
        String::from_utf8(with.stdout).unwrap(),
        String::from_utf8(without.stdout).unwrap(),
        std::fs::read_to_string(&path).unwrap(),
    )
}

/// Each lane's label text ("wait · 2 polls"), in order.
fn lane_labels(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed XML");
    doc.descendants()
        .filter(|n| n.attribute("class") == Some("lane"))
        .map(|lane| {
            lane.descendants()
                .find(|n| n.attribute("class") == Some("label"))
                .expect("a label per lane")
                .descendants()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .collect::<String>()
        })
        .collect()
}

fn written_line(path_tail: &str, stdout: &str) -> bool {
    stdout
        .lines()
        .last()
        .is_some_and(|l| l.starts_with("timeline written to ") && l.ends_with(path_tail))
}

#[test]
fn waiter_timeline_draws_wait_and_spin() {
    let (with, without, svg) = run_with_timeline(&["waiter"], "waiter.svg");
    assert!(written_line("waiter.svg", &with));
    assert_eq!(with.lines().count(), without.lines().count() + 1);
    assert!(with.starts_with(&without), "the transcript is unchanged");
    let labels = lane_labels(&svg);
    assert_eq!(
        labels,
        [
            "wait · 2 polls",
            "count_up_to · 11 polls",
            "spin · 12 polls",
            "count_up_to · 11 polls",
        ]
    );
}

#[test]
fn waiter_timeline_with_sleeps_shows_the_spinner_busy() {
    let (_, _, svg) = run_with_timeline(&["waiter", "--sleep-ms", "1", "--count", "3"], "w1.svg");
    let labels = lane_labels(&svg);
    assert_eq!(
        labels[0], "worker (parked)",
        "ours parks while count_up_to sleeps"
    );
    assert_eq!(labels[1], "wait · 2 polls");
    let spin: u64 = labels
        .iter()
        .find_map(|l| l.strip_prefix("spin · "))
        .expect("a spin lane")
        .strip_suffix(" polls")
        .unwrap()
        .parse()
        .unwrap();
    // 3 ms of sleeping: polled over and over (about once a microsecond on
    // an idle machine; far fewer is still "busy" on a loaded one).
    assert!(spin > 100, "spin polled {spin} times");
    // Ours let the worker park while count_up_to slept.
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let parked = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("idle"))
        .count();
    assert!(parked >= 3, "ours parks during each sleep: {parked}");
}

#[test]
fn mutex_timeline_has_a_lane_per_task() {
    let (with, without, svg) = run_with_timeline(&["mutex"], "mutex.svg");
    assert!(with.starts_with(&without));
    assert!(written_line("mutex.svg", &with));
    let labels = lane_labels(&svg);
    assert_eq!(labels.len(), 4, "one lane per task: {labels:?}");
    for (i, label) in labels.iter().enumerate() {
        assert!(label.starts_with(&format!("task {i} · ")), "{label}");
    }
}

/// From recorded events to the picture: 100 tasks yielding 3 times give 100
/// lanes and 400 poll bars, as many as the runtime counted.
#[test]
fn recorded_events_give_a_lane_per_task_and_a_bar_per_poll() {
    let rt = runtime::Builder::new_current_thread()
        .record_events(10_000)
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                runtime::spawn(async {
                    for _ in 0..3 {
                        runtime::yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let events = rt.take_events();
    let mut timeline = timeline::Timeline::new("100 tasks");
    let lanes = demos::timeline::add_run(&mut timeline, &events, &[]);
    assert_eq!(lanes.len(), 100);
    let svg = timeline.to_svg();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let class_count = |class: &str| {
        doc.descendants()
            .filter(|n| {
                n.attribute("class")
                    .is_some_and(|c| c.split(' ').any(|w| w == class))
            })
            .count()
    };
    assert_eq!(class_count("lane"), 100, "no parks: no worker lane");
    assert_eq!(class_count("poll") as u64, rt.metrics().poll_count);
    assert_eq!(class_count("poll"), 400);
    assert_eq!(class_count("ready"), 100);
    // A wake-up per spawn and per yield.
    assert_eq!(class_count("wake"), 400);
    assert_eq!(lane_labels(&svg)[99], "task 99 · 4 polls");
}
