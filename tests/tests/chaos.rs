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
