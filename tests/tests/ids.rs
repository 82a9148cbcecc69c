//! Ids a person can type (TUI.md 31, issue 20): the `ringshop` binary, on node processes,
//! takes an unambiguous prefix (at least 6 hex digits, dashes optional) of an order id or a
//! trace id; a prefix more than one order starts with is an error listing them (exit 2); none
//! is not found (exit 4); fewer than six digits is a usage error (exit 2). An order carries its
//! trace id: `order` and `orders` show it.

use std::process::Command;
use std::time::Duration;

use ringshop_node::shop::checkout::Payment;
use ringshop_shared::{NewOrder, OrderId, OrderLine, ProductId};
use ringshop_tests::{TestCluster, main_binary, name};

const CATALOG: &str = "mug,Mug,tea,1200,1000\nlamp,Lamp,home,4500,1000\n";

/// Runs the built `ringshop` with `args` (off a terminal); (exit code, stdout, stderr).
fn ringshop(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(main_binary())
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs ringshop");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn ringshop_async(args: Vec<String>) -> (Option<i32>, String, String) {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ringshop(&args)
    })
    .await
    .expect("ran")
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {text}"))
}

/// Two node processes of a shop whose payments take 20 ms.
fn shop() -> TestCluster {
    let payment = Payment {
        delay: Duration::from_millis(20),
        failure_rate: 0.0,
    };
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, payment);
    for i in 1..=2 {
        cluster.add_process(name(i));
    }
    cluster
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buy_is_found_again_by_eight_digits_of_its_order_id_and_of_its_trace_id() {
    let cluster = shop();
    let nodes = cluster.addrs()[0].to_string();
    let with_nodes = |args: &[&str]| -> Vec<String> {
        args.iter()
            .map(|a| a.to_string())
            .chain(["--join".into(), nodes.clone()])
            .collect()
    };
    let (code, out, stderr) = ringshop_async(with_nodes(&["buy", "mug", "--yes", "--json"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let bought = json(out.lines().last().unwrap_or_default());
    let order = bought["order"].as_str().expect("an order id").to_string();
    let trace = bought["trace_id"].as_str().expect("a trace id").to_string();

    // Eight digits as the TUI shows them; more, with a dash; no dashes, upper case.
    let digits: String = order.chars().filter(|c| *c != '-').collect();
    for typed in [&order[..8], &order[..13], &digits[..12].to_uppercase()] {
        let (code, out, stderr) = ringshop_async(with_nodes(&["order", typed, "--json"])).await;
        assert_eq!(code, Some(0), "{typed}: {stderr}");
        let doc = json(&out);
        assert_eq!(doc["id"], order.as_str(), "{typed}");
        assert_eq!(
            doc["checkout_trace_id"],
            trace.as_str(),
            "the order carries the trace it was placed in"
        );
        assert_ne!(
            doc["trace_id"],
            trace.as_str(),
            "the verb's own action is another"
        );
    }
    let (code, text, _) = ringshop_async(with_nodes(&["order", &order[..8]])).await;
    assert_eq!(code, Some(0));
    assert!(text.contains(&format!("trace    {trace}")), "{text}");
    let (code, out, _) = ringshop_async(with_nodes(&["orders", "--json"])).await;
    assert_eq!(code, Some(0));
    assert_eq!(json(&out)["orders"][0]["checkout_trace_id"], trace.as_str());
    let (code, text, _) = ringshop_async(with_nodes(&["orders"])).await;
    assert_eq!(code, Some(0));
    assert!(
        text.lines().next().unwrap_or_default().ends_with("trace"),
        "{text}"
    );
    assert!(
        text.contains(&trace[..8]),
        "the list shows the trace's 8 digits: {text}"
    );

    let (code, table, stderr) = ringshop_async(with_nodes(&["trace", &trace[..8]])).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(table.starts_with(&format!("trace {trace}")), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_too_short_unknown_or_shared_by_two_orders_is_a_typed_error() {
    let cluster = shop();
    let nodes = cluster.addrs()[0].to_string();
    let client = cluster.client().await;
    let ids = [
        "abcdef01-0000-4000-8000-000000000001",
        "abcdef01-0000-4000-8000-000000000002",
    ];
    for id in ids {
        let order = NewOrder {
            id: id.parse::<OrderId>().expect("a UUID"),
            customer: "ada".into(),
            lines: vec![OrderLine {
                product: ProductId::new("mug").expect("valid"),
                qty: 1,
            }],
        };
        client.checkout(&order).await.expect("placed");
    }
    let run = |args: &[&str]| {
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string())
            .chain(["--join".into(), nodes.clone(), "--json".into()])
            .collect();
        ringshop_async(args)
    };
    let (code, _, stderr) = run(&["order", "abcdef01"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    let err = json(&stderr);
    assert_eq!(err["error"]["kind"], "ambiguous");
    let message = err["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("abcdef01 is ambiguous: 2 orders start with it, all: "),
        "{message}"
    );
    assert_eq!(err["error"]["candidates"], serde_json::json!(ids));
    // One more digit is enough.
    let (code, out, stderr) = run(&["order", "abcdef01-0000-4000-8000-000000000002"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(json(&out)["id"], ids[1]);
    let (code, _, stderr) = run(&["order", "ab-cde"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    let err = json(&stderr);
    assert_eq!(err["error"]["kind"], "usage");
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("5 hex digits") && m.contains("at least 6")),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["order", "abcdef02"]).await;
    assert_eq!(code, Some(4), "{stderr}");
    assert_eq!(json(&stderr)["error"]["kind"], "not_found");
    let (code, _, stderr) = run(&["trace", "abc"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    let (code, _, stderr) = run(&["trace", "0000000f"]).await;
    assert_eq!(code, Some(4), "no trace starts with it: {stderr}");
    assert!(stderr.contains("no member keeps spans"), "{stderr}");
}
