//! The chaos suite on real node processes: join, graceful leave, SIGKILL, restart under the
//! same name and SIGSTOP past the suspicion time then SIGCONT, under load, with no failed
//! call, no id with two live generations, no stale answer after SIGCONT, and balanced books.
//! `scripts/chaos.sh` runs the same schedule in a loop for longer.

use std::time::Duration;

use ringshop_tests::chaos::{self, Settings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_join_leave_kill_restart_and_pause_every_call_succeeds_one_generation_lives_and_the_books_balance()
 {
    let outcome = chaos::run(&Settings::short()).await;
    let report = &outcome.report;
    println!("{report}");
    report.assert_holds();
}

/// `scripts/chaos.sh`: the schedule repeated for `$RINGSHOP_CHAOS_SECONDS` (default 120).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long; run by scripts/chaos.sh"]
async fn the_schedule_repeated_for_ringshop_chaos_seconds_keeps_all_four_properties() {
    let seconds = std::env::var("RINGSHOP_CHAOS_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(120);
    let outcome = chaos::run(&Settings::repeated(Duration::from_secs(seconds))).await;
    println!("{}", outcome.report);
    outcome.report.assert_holds();
}

/// A node started with a longer `--suspicion` (10 s) than the cluster's (2 s) runs on the
/// cluster's: paused 4 s under load, it is declared dead after 2 s like any other, and when it
/// runs again it answers nothing from before the pause (with its own 10 s it held a 7.5 s lease
/// and served requests queued in its sockets while its heirs held other values). The mains are
/// patient (a 6 s deadline, longer than the pause), so they do get the answers such a node
/// sends after SIGCONT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_started_with_a_longer_suspicion_runs_on_the_clusters_and_a_pause_splits_no_id() {
    use ringshop_tests::chaos::{Fault, Step};
    let short = Settings::short();
    let settings = Settings {
        nodes: 3,
        steps: vec![Step {
            after: Duration::from_secs(3),
            fault: Fault::Pause(Duration::from_secs(4)),
        }],
        load: ringshop_tests::chaos::LoadConfig {
            deadline: Some(Duration::from_secs(6)),
            ..short.load.clone()
        },
        ..short
    };
    // The nemesis pauses the oldest running node first: n1.
    let cluster = settings
        .cluster()
        .with_node_flags(ringshop_tests::name(1), &["--suspicion", "10s"]);
    let outcome = chaos::run_on(cluster, &settings).await;
    println!("{}", outcome.report);
    outcome.report.assert_holds();
}

/// The store's disk fills for 3 s under load (SQLite on a small tmpfs): buys are refused as
/// store-full (typed, nothing placed), every acknowledged order exists and ends, no value call
/// fails (they wait out the nodes' fence within their patience) and the books balance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_under_load_keeps_all_four_properties() {
    use ringshop_tests::chaos::{Fault, Step};
    let Some(disk) = ringshop_testpg::SmallDisk::mount("the full-disk chaos run", 32) else {
        return;
    };
    let settings = Settings {
        nodes: 3,
        steps: vec![Step {
            after: Duration::from_secs(3),
            fault: Fault::DiskFull(Duration::from_secs(3)),
        }],
        ..Settings::short()
    };
    let cluster = settings.cluster().on_small_disk(disk);
    let outcome = chaos::run_on(cluster, &settings).await;
    println!("{}", outcome.report);
    outcome.report.assert_holds();
}
