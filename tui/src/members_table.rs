//! The members table of `ringshop cluster`: one row per member the store lists, with what this
//! client sees of it (reachable or not, its share of the ring) and what it reports (actors,
//! hits, misses). Built from a snapshot; rendering does no I/O.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use std::net::SocketAddr;

use ringshop_shared::{MemberStatus, NodeId};
use serde::Serialize;

use crate::cli::{ClusterArgs, Failure, node_ttl_default, open};
use crate::cluster::Cluster;

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub epoch: u64,
    pub members: Vec<Row>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// None for a seed address that never answered.
    pub name: Option<NodeId>,
    pub addr: SocketAddr,
    /// UP, DOWN (active but unreachable from here), JOINING, LEAVING, LEFT, DEAD.
    pub status: &'static str,
    pub incarnation: Option<u64>,
    pub heartbeat_age_ms: Option<u64>,
    pub ring_share_pct: f64,
    pub live_actors: Option<u64>,
    pub hits: Option<u64>,
    pub misses: Option<u64>,
    pub redirected: Option<u64>,
    pub epoch: Option<u64>,
}

/// Reads the membership fresh from the cluster, and every reachable member's counters.
pub async fn snapshot(cluster: &Cluster) -> Result<Table, Failure> {
    let listing = cluster.listing().await?;
    let stats = cluster.stats().await;
    let shares = cluster.ring().shares();
    let views = cluster.members();
    let mut members = Vec::new();
    for m in &listing.members {
        let share = shares
            .iter()
            .find(|(n, _)| *n == m.name)
            .map_or(0.0, |(_, s)| *s);
        let stats = stats
            .iter()
            .find(|(n, _)| *n == m.name)
            .and_then(|(_, s)| s.as_ref().ok())
            .filter(|_| m.status != MemberStatus::Dead && m.status != MemberStatus::Left);
        let up = views.iter().any(|v| v.name == m.name && v.up);
        members.push(Row {
            name: Some(m.name.clone()),
            addr: m.addr,
            status: status_word(m.status, up),
            incarnation: Some(m.incarnation),
            heartbeat_age_ms: Some(m.heartbeat_age.as_millis() as u64),
            ring_share_pct: (share * 1000.0).round() / 10.0,
            live_actors: stats.map(|s| s.live_actors),
            hits: stats.map(|s| s.hits),
            misses: stats.map(|s| s.misses),
            redirected: stats.map(|s| s.redirected),
            epoch: stats.map(|s| s.epoch),
        });
    }
    for addr in cluster.unreachable() {
        members.push(Row {
            name: None,
            addr,
            status: "DOWN",
            incarnation: None,
            heartbeat_age_ms: None,
            ring_share_pct: 0.0,
            live_actors: None,
            hits: None,
            misses: None,
            redirected: None,
            epoch: None,
        });
    }
    Ok(Table {
        epoch: listing.epoch,
        members,
    })
}

fn status_word(status: MemberStatus, up: bool) -> &'static str {
    match status {
        MemberStatus::Active if up => "UP",
        MemberStatus::Active => "DOWN",
        MemberStatus::Joining => "JOINING",
        MemberStatus::Leaving => "LEAVING",
        MemberStatus::Left => "LEFT",
        MemberStatus::Dead => "DEAD",
    }
}

impl Table {
    pub fn render(&self) -> String {
        let mut out = format!("membership epoch {}\n", self.epoch);
        let _ = writeln!(
            out,
            "{:<8} {:<21} {:<7} {:>9} {:>6} {:>6} {:>8} {:>8} {:>5}",
            "name", "address", "status", "heartbeat", "share", "actors", "hits", "misses", "epoch"
        );
        let n = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
        for r in &self.members {
            let beat = r
                .heartbeat_age_ms
                .map_or("-".to_string(), |ms| format!("{:.1} s", ms as f64 / 1000.0));
            let line = format!(
                "{:<8} {:<21} {:<7} {:>9} {:>5.1}% {:>6} {:>8} {:>8} {:>5}",
                r.name.as_ref().map_or("?", NodeId::as_str),
                r.addr.to_string(),
                r.status,
                beat,
                r.ring_share_pct,
                n(r.live_actors),
                n(r.hits),
                n(r.misses),
                n(r.epoch),
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
        out
    }
}

/// `ringshop cluster [--watch]`: the table, once or refreshed in place until Ctrl-C.
pub async fn verb(args: ClusterArgs) -> Result<(), Failure> {
    let (cluster, embedded) = open(&args.target, node_ttl_default()).await?;
    let tty = std::io::stdout().is_terminal();
    let mut shown = 0u64;
    loop {
        let table = snapshot(&cluster).await?;
        let mut out = std::io::stdout().lock();
        let _ = if args.target.json {
            writeln!(out, "{}", serde_json::to_string(&table).unwrap_or_default())
        } else {
            if args.watch && tty {
                let _ = write!(out, "\x1b[H\x1b[2J");
            }
            writeln!(out, "{}", table.render())
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
    use super::*;

    fn row(name: &str, status: &'static str, share: f64) -> Row {
        Row {
            name: NodeId::new(name).ok(),
            addr: SocketAddr::from(([127, 0, 0, 1], 7001)),
            status,
            incarnation: Some(1),
            heartbeat_age_ms: Some(300),
            ring_share_pct: share,
            live_actors: Some(2),
            hits: Some(10),
            misses: Some(3),
            redirected: Some(0),
            epoch: Some(4),
        }
    }

    #[test]
    fn render_shows_status_words_heartbeat_and_share() {
        let table = Table {
            epoch: 4,
            members: vec![row("n1", "UP", 51.3), row("n2", "DEAD", 0.0)],
        };
        let text = table.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "membership epoch 4");
        assert_eq!(
            lines[2],
            "n1       127.0.0.1:7001        UP          0.3 s  51.3%      2       10        3     4"
        );
        assert!(lines[3].contains("DEAD"), "{}", lines[3]);
    }

    #[test]
    fn status_words_never_rely_on_colour() {
        assert_eq!(status_word(MemberStatus::Active, true), "UP");
        assert_eq!(status_word(MemberStatus::Active, false), "DOWN");
        assert_eq!(status_word(MemberStatus::Leaving, true), "LEAVING");
        assert_eq!(status_word(MemberStatus::Dead, false), "DEAD");
    }
}
