//! The demo cycle, as in the reference: ids 1-4 (each lands on one node and gets a random
//! value), the same ids again (hits, same nodes, same values), a wait past the TTL, and again
//! (new values). `Pass` is plain data the `demo` verb prints and the screen's Demo tab shows,
//! each row as the same cells (`Row::cells`); `cycle` runs the three passes for both.

use std::time::Duration;

use ringshop_shared::NodeId;
use ringshop_shared::duration::short;
use serde::Serialize;

use super::cluster::Cluster;

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

    /// The pass's columns, as both the verb's table and the screen's Demo tab head them.
    pub const HEADER: [&'static str; 7] =
        ["id", "node", "value", "cache", "age", "latency", "note"];
}

impl Row {
    /// "hit", "miss", or "-" for an id that got no answer.
    pub fn cache(&self) -> &'static str {
        match self.hit {
            Some(true) => "hit",
            Some(false) => "miss",
            None => "-",
        }
    }

    /// What to say beside the row: its error, the nodes it failed over from, or the node that
    /// served it in the previous pass.
    pub fn note(&self) -> String {
        match (&self.error, self.failover_from.as_slice(), &self.moved_from) {
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
        }
    }

    /// The row's cells under `Pass::HEADER`.
    pub fn cells(&self) -> [String; 7] {
        [
            self.id.to_string(),
            self.node
                .as_ref()
                .map_or("-".to_string(), NodeId::to_string),
            self.value.map_or("-".to_string(), |v| v.to_string()),
            self.cache().to_string(),
            short(self.age),
            short(self.latency),
            self.note(),
        ]
    }
}

/// The titles of the cycle's three passes.
pub const TITLES: [&str; 3] = [
    "cold: every id is a miss",
    "again within the TTL: hits, same nodes, same values",
    "after the TTL: actors retired, new values",
];

/// What the cycle has just done.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// A pass is over.
    Pass(Pass),
    /// The cycle waits this long for the values of the second pass to expire.
    Waiting(Duration),
}

/// The demo cycle over `ids`: a cold pass, the same ids again, a wait past the longest TTL
/// left, and a third pass; each step is handed to `step` as it happens. The number of ids
/// that failed, over all passes.
pub async fn cycle(cluster: &Cluster, ids: &[u64], mut step: impl FnMut(Step)) -> (Pass, usize) {
    let mut failed = 0;
    let mut last = None;
    for (i, title) in TITLES.iter().enumerate() {
        let pass = run_pass(cluster, i + 1, *title, ids).await;
        failed += pass.failed();
        let wait = pass
            .longest_ttl_left()
            .saturating_add(Duration::from_millis(100));
        step(Step::Pass(pass.clone()));
        if i == 1 {
            step(Step::Waiting(wait));
            tokio::time::sleep(wait).await;
        }
        last = Some(pass);
    }
    let last = last.unwrap_or_else(|| Pass {
        pass: 0,
        title: String::new(),
        rows: Vec::new(),
    });
    (last, failed)
}

/// A row as the tests of the demo's model and of its printing need one.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// Id `id` served by n2 with value 417, 1.5 s old, 0.42 ms, failed over from `failover`.
    pub fn row(id: u64, hit: bool, failover: &[&str]) -> Row {
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
}

#[cfg(test)]
mod tests {
    use super::fixtures::row;
    use super::*;

    #[test]
    fn cells_show_node_value_cache_age_latency_and_failover() {
        assert_eq!(
            row(1, true, &[]).cells(),
            ["1", "n2", "417", "hit", "1.5 s", "0.42 ms", ""].map(String::from)
        );
        let failed_over = row(2, false, &["n1", "n3"]).cells();
        assert_eq!(failed_over[3], "miss");
        assert_eq!(failed_over[6], "failover from n1, n3");
        let mut moved = row(3, true, &[]);
        moved.moved_from = NodeId::new("n1").ok();
        assert_eq!(moved.note(), "moved from n1");
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
