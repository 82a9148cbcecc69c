//! `ringshop demo`: the demo cycle (`client::demo`) printed one table per pass, or one JSON
//! line per pass with `--json`; then, on request, a node of the embedded cluster killed or
//! leaving and one more pass.

use std::fmt::Write as _;
use std::io::Write as _;

use ringshop_shared::duration::short;

use super::args::DemoArgs;
use super::failure::{Failure, Kind};
use super::output::with_trace;
use crate::client::demo::{self, Pass, Row, Step};

/// Widths of `Pass::HEADER`'s columns; the note takes the rest.
const WIDTHS: [usize; 6] = [4, 6, 5, 5, 9, 9];

/// The pass as an aligned text table.
pub fn table(pass: &Pass) -> String {
    let mut out = format!("pass {} · {}\n", pass.pass, pass.title);
    let line = |cells: [&str; 7]| {
        let [id, node, value, cache, age, latency, note] = cells;
        let [w0, w1, w2, w3, w4, w5] = WIDTHS;
        let line = format!(
            "  {id:>w0$}  {node:<w1$} {value:>w2$}  {cache:<w3$}  {age:>w4$}  {latency:>w5$}  {note}"
        );
        line.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(Pass::HEADER));
    for r in &pass.rows {
        let cells = Row::cells(r);
        let _ = writeln!(out, "{}", line(cells.each_ref().map(String::as_str)));
    }
    out
}

/// `ringshop demo`: the passes, then optionally a node killed or leaving and one more pass.
pub async fn run(args: DemoArgs) -> Result<(), Failure> {
    if (args.kill_one || args.leave_one) && !args.target.nodes.is_empty() {
        return Err(Failure::usage(
            "--kill-one and --leave-one stop a node of the embedded cluster; they cannot be used with --nodes",
        ));
    }
    if args.ids.is_empty() {
        return Err(Failure::usage("--ids needs at least one id"));
    }
    let (cluster, mut embedded) = args.target.open(args.ttl).await?;
    let json = args.target.json;
    let say = |text: String| {
        if !json {
            eprintln!("{text}");
        }
    };
    let members = cluster.members();
    let active: Vec<String> = members
        .iter()
        .filter(|m| m.status.in_ring())
        .map(|m| format!("{} {}", m.name, m.addr))
        .collect();
    say(format!(
        "{} cluster, membership epoch {}: {} active ({})",
        if embedded.is_some() {
            "embedded"
        } else {
            "joined"
        },
        cluster.epoch(),
        active.len(),
        active.join(", ")
    ));
    let show = |pass: &Pass| {
        let mut out = std::io::stdout().lock();
        let _ = if json {
            writeln!(
                out,
                "{}",
                with_trace(serde_json::to_value(pass).unwrap_or_default())
            )
        } else {
            writeln!(out, "{}", table(pass))
        };
    };
    let (third, mut failed) = demo::cycle(&cluster, &args.ids, |step| match step {
        Step::Pass(pass) => show(&pass),
        Step::Waiting(wait) => say(format!("waiting {} for the TTL to pass...", short(wait))),
    })
    .await;
    if (args.kill_one || args.leave_one)
        && let Some(embedded) = embedded.as_mut()
    {
        let victim = cluster
            .owner(&args.ids[0])
            .ok_or_else(|| Failure::new(Kind::Cluster, "no member owns the first id"))?;
        if args.leave_one {
            if let Some(addr) = embedded.stop(&victim).await {
                say(format!(
                    "{victim} ({addr}) left gracefully, handing its entries to their new owners"
                ));
            }
        } else if let Some(addr) = embedded.kill(&victim).await {
            say(format!(
                "killed {victim} ({addr}); its ids fail over to their next owners"
            ));
        }
        let title = if args.leave_one {
            format!("{victim} left: its entries handed over, hits on their new owners")
        } else {
            format!("{victim} is down: its ids answered by the others")
        };
        let mut fourth = demo::run_pass(&cluster, 4, title, &args.ids).await;
        fourth.note_moves(&third);
        failed += fourth.failed();
        show(&fourth);
    }
    if let Some(embedded) = embedded {
        embedded.shutdown().await;
    }
    if failed > 0 {
        return Err(Failure::new(
            Kind::Request,
            format!("{failed} requests failed"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::demo::fixtures::row;

    #[test]
    fn table_shows_node_value_cache_age_latency_and_failover() {
        let pass = Pass {
            pass: 2,
            title: "within the TTL".into(),
            rows: vec![row(1, true, &[]), row(2, false, &["n1"])],
        };
        let table = table(&pass);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "pass 2 · within the TTL");
        assert!(
            lines[2].contains("   1  n2       417  hit        1.5 s    0.42 ms"),
            "{}",
            lines[2]
        );
        assert!(
            lines[3].contains("miss") && lines[3].ends_with("failover from n1"),
            "{}",
            lines[3]
        );
    }
}
