//! `ringshop cluster`: the members table (`Cluster::snapshot`) once, or refreshed in place with
//! `--watch`; with `--json`, one JSON document per table.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use ringshop_shared::NodeId;
use serde_json::{Value, json};

use super::args::{ClusterArgs, node_ttl_default};
use super::failure::Failure;
use super::output::{Paint, with_trace};
use crate::client::{MemberState, Snapshot};

/// The snapshot as an aligned text table; seeds that never answered are rows named "?".
pub fn table(snapshot: &Snapshot, paint: Paint) -> String {
    let mut out = format!("membership epoch {}\n", snapshot.epoch);
    let _ = writeln!(
        out,
        "{:<8} {:<21} {:<7} {:>3} {:>9} {:>6} {:>6} {:>8} {:>8} {:>5} {:>6} {:>6} store",
        "name",
        "address",
        "status",
        "inc",
        "heartbeat",
        "share",
        "actors",
        "hits",
        "misses",
        "epoch",
        "held",
        "fenced",
    );
    let n = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    for m in &snapshot.members {
        let s = m.stats.as_ref();
        let word = format!("{:<7}", m.state.word());
        let status = match m.state {
            MemberState::Up => paint.ok(word),
            MemberState::Joining | MemberState::Leaving => paint.warn(word),
            MemberState::Down | MemberState::Dead => paint.bad(word),
            MemberState::Left => word,
        };
        let store = match s.map(|s| s.store) {
            None => "-".to_string(),
            Some("ok") => "ok".to_string(),
            Some(word) => paint.bad(word.to_string()),
        };
        let line = format!(
            "{:<8} {:<21} {} {:>3} {:>9} {:>5.1}% {:>6} {:>8} {:>8} {:>5} {:>6} {:>6} {}",
            m.name.as_str(),
            m.addr.to_string(),
            status,
            m.incarnation,
            format!("{:.1} s", m.heartbeat_age.as_secs_f64()),
            m.share * 100.0,
            n(s.map(|s| s.live_actors)),
            n(s.map(|s| s.hits)),
            n(s.map(|s| s.misses)),
            n(s.map(|s| s.epoch)),
            n(s.map(|s| s.held)),
            n(s.map(|s| s.fenced)),
            store,
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    for addr in &snapshot.unknown {
        let line = format!(
            "{:<8} {:<21} {:<7} {:>3} {:>9} {:>5.1}%",
            "?",
            addr.to_string(),
            MemberState::Down.word(),
            "-",
            "-",
            0.0
        );
        let _ = writeln!(out, "{line}");
    }
    out
}

/// The snapshot as JSON: stable snake_case fields; a seed that never answered has no name.
pub fn to_json(snapshot: &Snapshot) -> Value {
    let mut members: Vec<Value> = snapshot
        .members
        .iter()
        .map(|m| {
            let s = m.stats.as_ref();
            json!({
                "name": m.name.as_str(),
                "addr": m.addr.to_string(),
                "status": m.state.word(),
                "incarnation": m.incarnation,
                "heartbeat_age_ms": m.heartbeat_age.as_millis() as u64,
                "ring_share_pct": (m.share * 1000.0).round() / 10.0,
                "live_actors": s.map(|s| s.live_actors),
                "hits": s.map(|s| s.hits),
                "misses": s.map(|s| s.misses),
                "redirected": s.map(|s| s.redirected),
                "epoch": s.map(|s| s.epoch),
                "held": s.map(|s| s.held),
                "fenced": s.map(|s| s.fenced),
                "handed_off": s.map(|s| s.handed_off),
                "adopted": s.map(|s| s.adopted),
                "store": s.map(|s| s.store),
            })
        })
        .collect();
    members.extend(snapshot.unknown.iter().map(|addr| {
        json!({
            "name": Option::<&NodeId>::None,
            "addr": addr.to_string(),
            "status": MemberState::Down.word(),
            "incarnation": null, "heartbeat_age_ms": null, "ring_share_pct": 0.0,
            "live_actors": null, "hits": null, "misses": null, "redirected": null, "epoch": null,
            "held": null, "fenced": null, "handed_off": null, "adopted": null,
            "store": null,
        })
    }));
    json!({ "epoch": snapshot.epoch, "members": members })
}

/// `ringshop cluster [--watch]`: the table, once or refreshed in place until Ctrl-C.
pub async fn run(args: ClusterArgs) -> Result<(), Failure> {
    let (cluster, embedded) = args.target.open(node_ttl_default()).await?;
    let tty = std::io::stdout().is_terminal();
    let paint = Paint {
        on: args.target.color.colours(tty),
    };
    let mut shown = 0u64;
    loop {
        let snapshot = cluster.snapshot().await?;
        let mut out = std::io::stdout().lock();
        let _ = if args.target.json {
            writeln!(out, "{}", with_trace(to_json(&snapshot)))
        } else {
            if args.watch && tty {
                let _ = write!(out, "\x1b[H\x1b[2J");
            }
            writeln!(out, "{}", table(&snapshot, paint))
        };
        let _ = out.flush();
        drop(out);
        shown += 1;
        if !args.watch || args.count.is_some_and(|c| shown >= c) {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(args.refresh) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    if let Some(embedded) = embedded {
        embedded.shutdown().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use super::*;
    use crate::client::{MemberRow, MemberStats};

    fn row(name: &str, state: MemberState, share: f64) -> MemberRow {
        MemberRow {
            name: NodeId::new(name).expect("valid"),
            addr: SocketAddr::from(([127, 0, 0, 1], 7001)),
            state,
            incarnation: 1,
            heartbeat_age: Duration::from_millis(300),
            share,
            stats: (state == MemberState::Up).then_some(MemberStats {
                live_actors: 2,
                hits: 10,
                misses: 3,
                redirected: 0,
                epoch: 4,
                held: 1,
                fenced: 0,
                handed_off: 0,
                adopted: 0,
                store: "full",
                ..MemberStats::default()
            }),
        }
    }

    #[test]
    fn the_table_shows_status_words_heartbeat_and_share() {
        let snapshot = Snapshot {
            epoch: 4,
            members: vec![
                row("n1", MemberState::Up, 0.513),
                row("n2", MemberState::Dead, 0.0),
            ],
            unknown: vec![SocketAddr::from(([127, 0, 0, 1], 7009))],
        };
        let text = table(&snapshot, Paint { on: false });
        let coloured = table(&snapshot, Paint { on: true });
        assert!(coloured.contains("\x1b[32mUP     \x1b[0m"), "{coloured}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "membership epoch 4");
        assert_eq!(
            lines[2],
            "n1       127.0.0.1:7001        UP        1     0.3 s  51.3%      2       10        3     4      1      0 full"
        );
        assert!(lines[3].contains("DEAD"), "{}", lines[3]);
        assert!(
            lines[4].starts_with("?        127.0.0.1:7009        DOWN"),
            "{}",
            lines[4]
        );
        let doc = to_json(&snapshot);
        assert_eq!(doc["members"][0]["ring_share_pct"], 51.3);
        assert_eq!(doc["members"][1]["hits"], Value::Null);
        assert_eq!(doc["members"][0]["store"], "full");
        assert_eq!(doc["members"][2]["name"], Value::Null);
    }
}
