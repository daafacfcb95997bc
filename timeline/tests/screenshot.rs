//! The screenshot check: a 100-task timeline rendered by headless Chromium
//! (Debian's `chromium` package) to PNG. Skipped, with a message, when no
//! Chromium is installed (`.ci/run` installs it).
//!
//! The check reads the PNG's header (a real image of the SVG's size) and
//! keeps the file in the target directory for a human to look at.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;
use timeline::Timeline;

/// The first Chromium on `PATH`, if any.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.len() > 24, "a PNG of {} bytes", png.len());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&png[12..16], b"IHDR");
    let word = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

/// Runs `command`, killing it (and failing) after `secs` seconds.
fn run_bounded(mut command: Command, secs: u64) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let (tx, rx) = mpsc::channel();
    let id = child.id();
    let waiter = thread::spawn(move || {
        let status = child.wait();
        let _ = tx.send(());
        status
    });
    if rx.recv_timeout(Duration::from_secs(secs)).is_err() {
        let _ = Command::new("kill").arg("-9").arg(id.to_string()).status();
        panic!("chromium hung for {secs} s");
    }
    let status = waiter.join().unwrap().expect("chromium ran");
    assert!(status.success(), "chromium failed: {status}");
}

#[test]
fn chromium_renders_the_svg_to_png() {
    let Some(chromium) = chromium() else {
        eprintln!("skipped: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let mut timeline = Timeline::new("100 tasks, rendered by Chromium");
    timeline.group("one run");
    for i in 0..100u64 {
        let lane = timeline.lane(format!("task {i}"));
        for k in 0..3u64 {
            let start = Duration::from_micros(i + k * 150);
            timeline.wake(lane, start);
            timeline.poll(lane, start, start + Duration::from_micros(20), k == 2);
        }
    }
    let svg = timeline.to_svg();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let attr = |name: &str| -> u32 {
        doc.root_element()
            .attribute(name)
            .unwrap()
            .parse::<f64>()
            .unwrap() as u32
    };
    let (width, height) = (attr("width"), attr("height"));

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("timeline-screenshot");
    std::fs::create_dir_all(&dir).unwrap();
    let svg_path = dir.join("hundred.svg");
    let png_path = dir.join("hundred.png");
    std::fs::write(&svg_path, &svg).unwrap();
    let _ = std::fs::remove_file(&png_path);
    let mut command = Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", png_path.display()))
        .arg(format!("file://{}", svg_path.display()));
    run_bounded(command, 120);
    let png = std::fs::read(&png_path).expect("chromium wrote the PNG");
    assert_eq!(png_size(&png), (width, height), "the whole timeline");
    // A blank page compresses to a few kilobytes; 100 labelled lanes do not.
    assert!(
        png.len() > 20_000,
        "a PNG of {} bytes looks blank",
        png.len()
    );
    eprintln!("screenshot: {}", png_path.display());
}
