//! Key to frame with calls in flight (TUI.md 17: under 50 ms with 64 calls in flight). The
//! screen's loop runs as a task on the same runtime (2 worker threads) as an embedded 3-node
//! cluster; each key (j or k on the Shop tab) goes through a channel to it, as the terminal's
//! events do, and it runs `update` and draws the frame at 160×48 on a TestBackend. The time is
//! from sending the key to the frame drawn. Loaded: 64 tasks each keep one `Cluster::request`
//! in flight all along (ids round and round); idle: none. Interleaved rounds, as the machine is
//! shared. Run with `cargo bench -p ringshop-tui --bench keyframe`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ringshop_tui::ClusterConfig;
use ringshop_tui::screen::action::Action;
use ringshop_tui::screen::theme::Theme;
use ringshop_tui::screen::views;
use tokio::sync::mpsc;

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

const KEYS: usize = 400;
const IN_FLIGHT: u64 = 64;
const ROUNDS: usize = 2;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (cluster, embedded) =
        ringshop_tui::client::open(&[], ClusterConfig::default(), Duration::from_secs(5))
            .await
            .expect("an embedded cluster starts");
    let (keys, mut incoming) = mpsc::unbounded_channel::<(Instant, KeyEvent)>();
    let (drawn, mut frames) = mpsc::unbounded_channel::<Duration>();
    tokio::spawn(async move {
        let mut app = fixtures::busy();
        let theme = Theme::new(true);
        let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("a test terminal");
        while let Some((sent, key)) = incoming.recv().await {
            let _effects = app.update(Action::Key(key));
            terminal
                .draw(|f| views::draw(&app, &theme, f))
                .expect("draws");
            let _ = drawn.send(sent.elapsed());
        }
    });
    println!(
        "key to frame (update + draw at 160×48), {KEYS} keys a round, {ROUNDS} interleaved rounds\n"
    );
    for round in 1..=ROUNDS {
        for loaded in [false, true] {
            let stop = Arc::new(AtomicBool::new(false));
            let calls = Arc::new(AtomicU64::new(0));
            let load: Vec<_> = (0..if loaded { IN_FLIGHT } else { 0 })
                .map(|w| {
                    let (cluster, stop, calls) = (cluster.clone(), stop.clone(), calls.clone());
                    tokio::spawn(async move {
                        let mut id = w * 1_000;
                        while !stop.load(Ordering::Relaxed) {
                            let _ = cluster.request(id).await;
                            calls.fetch_add(1, Ordering::Relaxed);
                            id = w * 1_000 + (id + 1) % 1_000;
                        }
                    })
                })
                .collect();
            tokio::time::sleep(Duration::from_millis(300)).await;
            let started = Instant::now();
            let before = calls.load(Ordering::Relaxed);
            let mut times = Vec::with_capacity(KEYS);
            for i in 0..KEYS {
                let code = if i % 2 == 0 {
                    KeyCode::Char('j')
                } else {
                    KeyCode::Char('k')
                };
                let key = KeyEvent::new(code, KeyModifiers::NONE);
                keys.send((Instant::now(), key)).expect("the loop runs");
                times.push(frames.recv().await.expect("a frame"));
                // A fast typist: 200 keys a second.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let per_s =
                (calls.load(Ordering::Relaxed) - before) as f64 / started.elapsed().as_secs_f64();
            stop.store(true, Ordering::Relaxed);
            for task in load {
                let _ = task.await;
            }
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            println!(
                "round {round} {:<22} p50 {:>6.2} ms   p99 {:>6.2} ms   max {:>6.2} ms   load {:>7.0} calls/s",
                if loaded {
                    "64 calls in flight"
                } else {
                    "no calls in flight"
                },
                ms(times[KEYS / 2]),
                ms(times[KEYS * 99 / 100]),
                ms(times[KEYS - 1]),
                per_s
            );
        }
    }
    if let Some(embedded) = embedded {
        embedded.shutdown().await;
    }
}
