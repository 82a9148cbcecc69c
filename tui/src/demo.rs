//! The headless demo cycle, as in the reference: ids 1-4 (each lands on one node and gets a
//! random value), the same ids again (hits, same nodes, same values), a wait past the TTL, and
//! again (new values). One table per pass; with `--json`, one JSON line per pass.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use ringshop_shared::NodeId;
use ringshop_shared::duration::short;
use serde::Serialize;

use crate::cli::{DemoArgs, Failure, open};
use crate::cluster::Cluster;

/// The longest TTL a node accepts (`parse_duration`'s limit).
const MAX_TTL: Duration = Duration::from_secs(86_400);

/// One id's answer in one pass.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub id: u64,
    pub node: Option<NodeId>,
    pub value: Option<u32>,
    pub hit: Option<bool>,
    #[serde(rename = "age_ms", serialize_with = "as_ms")]
    pub age: Duration,
    #[serde(rename = "ttl_left_ms", serialize_with = "as_ms")]
    pub ttl_left: Duration,
    #[serde(rename = "latency_ms", serialize_with = "as_ms")]
    pub latency: Duration,
    pub failover_from: Vec<NodeId>,
    /// The node that served this id in the previous pass, when another one serves it now.
    pub moved_from: Option<NodeId>,
    pub error: Option<String>,
}

/// One pass over the ids.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pass {
    pub pass: usize,
    pub title: String,
    pub rows: Vec<Row>,
}

fn as_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e3)
}

/// Asks for every id, one after another (so latency is each call's own), and tabulates it.
pub async fn run_pass(
    cluster: &Cluster,
    pass: usize,
    title: impl Into<String>,
    ids: &[u64],
) -> Pass {
    let mut rows = Vec::with_capacity(ids.len());
    for &id in ids {
        rows.push(match cluster.request(id).await {
            Ok(answer) => Row {
                id,
                node: Some(answer.report.node),
                value: Some(answer.value.value),
                hit: Some(answer.value.hit),
                age: answer.value.age,
                ttl_left: answer.value.ttl_left,
                latency: answer.report.latency,
                failover_from: answer.report.failover_from,
                moved_from: None,
                error: None,
            },
            Err(e) => Row {
                id,
                node: None,
                value: None,
                hit: None,
                age: Duration::ZERO,
                ttl_left: Duration::ZERO,
                latency: Duration::ZERO,
                failover_from: Vec::new(),
                moved_from: None,
                error: Some(e.to_string()),
            },
        });
    }
    Pass {
        pass,
        title: title.into(),
        rows,
    }
}

impl Pass {
    /// How long until every value in this pass has expired.
    /// The longest TTL any row has left, at most a day (no node keeps a value longer; a
    /// larger figure off the wire is not believed).
    pub fn longest_ttl_left(&self) -> Duration {
        self.rows
            .iter()
            .map(|r| r.ttl_left)
            .max()
            .unwrap_or_default()
            .min(MAX_TTL)
    }

    /// Marks each row whose id another node served in `previous`.
    pub fn note_moves(&mut self, previous: &Pass) {
        for row in &mut self.rows {
            let before = previous
                .rows
                .iter()
                .find(|r| r.id == row.id)
                .and_then(|r| r.node.as_ref());
            if before.is_some() && before != row.node.as_ref() {
                row.moved_from = before.cloned();
            }
        }
    }

    pub fn failed(&self) -> usize {
        self.rows.iter().filter(|r| r.error.is_some()).count()
    }

    /// The pass as an aligned text table.
    pub fn table(&self) -> String {
        let mut out = format!("pass {} · {}\n", self.pass, self.title);
        let _ = writeln!(
            out,
            "  {:>4}  {:<6} {:>5}  {:<5}  {:>9}  {:>9}  note",
            "id", "node", "value", "cache", "age", "latency"
        );
        for r in &self.rows {
            let node = r.node.as_ref().map_or("-".to_string(), NodeId::to_string);
            let value = r.value.map_or("-".to_string(), |v| v.to_string());
            let cache = match r.hit {
                Some(true) => "hit",
                Some(false) => "miss",
                None => "-",
            };
            let note = match (&r.error, r.failover_from.as_slice(), &r.moved_from) {
                (Some(e), _, _) => format!("error: {e}"),
                (None, [], None) => String::new(),
                (None, [], Some(was)) => format!("moved from {was}"),
                (None, from, _) => format!(
                    "failover from {}",
                    from.iter()
                        .map(NodeId::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let line = format!(
                "  {:>4}  {:<6} {:>5}  {:<5}  {:>9}  {:>9}  {}",
                r.id,
                node,
                value,
                cache,
                short(r.age),
                short(r.latency),
                note
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
        out
    }
}

/// `ringshop demo`: the passes, then optionally a node killed or leaving and one more pass.
pub async fn verb(args: DemoArgs) -> Result<(), Failure> {
    if (args.kill_one || args.leave_one) && !args.target.nodes.is_empty() {
        return Err(Failure::new(
            2,
            "usage",
            "--kill-one and --leave-one stop a node of the embedded cluster; they cannot be used with --nodes",
        ));
    }
    if args.ids.is_empty() {
        return Err(Failure::new(2, "usage", "--ids needs at least one id"));
    }
    let (cluster, mut embedded) = open(&args.target, args.ttl).await?;
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
    let mut failed = 0;
    let mut show = |pass: &Pass| {
        failed += pass.failed();
        let mut out = std::io::stdout().lock();
        let _ = if json {
            writeln!(out, "{}", serde_json::to_string(pass).unwrap_or_default())
        } else {
            writeln!(out, "{}", pass.table())
        };
    };
    let first = run_pass(&cluster, 1, "cold: every id is a miss", &args.ids).await;
    show(&first);
    let second = run_pass(
        &cluster,
        2,
        "again within the TTL: hits, same nodes, same values",
        &args.ids,
    )
    .await;
    show(&second);
    let wait = second
        .longest_ttl_left()
        .saturating_add(Duration::from_millis(100));
    say(format!("waiting {} for the TTL to pass...", short(wait)));
    tokio::time::sleep(wait).await;
    let third = run_pass(
        &cluster,
        3,
        "after the TTL: actors retired, new values",
        &args.ids,
    )
    .await;
    show(&third);
    if (args.kill_one || args.leave_one)
        && let Some(embedded) = embedded.as_mut()
    {
        let victim = cluster
            .owner(&args.ids[0])
            .ok_or_else(|| Failure::new(1, "cluster", "no member owns the first id"))?;
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
        let mut fourth = run_pass(&cluster, 4, title, &args.ids).await;
        fourth.note_moves(&third);
        show(&fourth);
    }
    if let Some(embedded) = embedded {
        embedded.shutdown().await;
    }
    if failed > 0 {
        return Err(Failure::new(
            1,
            "request",
            format!("{failed} requests failed"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u64, hit: bool, failover: &[&str]) -> Row {
        Row {
            id,
            node: NodeId::new("n2").ok(),
            value: Some(417),
            hit: Some(hit),
            age: Duration::from_millis(1500),
            ttl_left: Duration::from_millis(3500),
            latency: Duration::from_micros(420),
            failover_from: failover
                .iter()
                .filter_map(|n| NodeId::new(*n).ok())
                .collect(),
            moved_from: None,
            error: None,
        }
    }

    #[test]
    fn table_shows_node_value_cache_age_latency_and_failover() {
        let pass = Pass {
            pass: 2,
            title: "within the TTL".into(),
            rows: vec![row(1, true, &[]), row(2, false, &["n1"])],
        };
        let table = pass.table();
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

    #[test]
    fn json_has_stable_snake_case_fields_in_milliseconds() {
        let pass = Pass {
            pass: 1,
            title: "cold".into(),
            rows: vec![row(4, false, &[])],
        };
        let json = serde_json::to_value(&pass).expect("serialises");
        assert_eq!(json["pass"], 1);
        assert_eq!(json["rows"][0]["node"], "n2");
        assert_eq!(json["rows"][0]["age_ms"], 1500.0);
        assert_eq!(json["rows"][0]["latency_ms"], 0.42);
        assert_eq!(json["rows"][0]["failover_from"], serde_json::json!([]));
    }

    #[test]
    fn longest_ttl_left_is_the_max_over_rows() {
        let mut a = row(1, true, &[]);
        a.ttl_left = Duration::from_secs(1);
        let pass = Pass {
            pass: 1,
            title: String::new(),
            rows: vec![a, row(2, true, &[])],
        };
        assert_eq!(pass.longest_ttl_left(), Duration::from_millis(3500));
    }

    #[test]
    fn an_absurd_ttl_off_the_wire_waits_at_most_a_day_and_never_overflows() {
        let mut a = row(1, true, &[]);
        a.ttl_left = Duration::MAX;
        let pass = Pass {
            pass: 1,
            title: String::new(),
            rows: vec![a],
        };
        assert_eq!(pass.longest_ttl_left(), MAX_TTL);
        assert!(
            pass.longest_ttl_left()
                .checked_add(Duration::from_secs(1))
                .is_some()
        );
    }
}
