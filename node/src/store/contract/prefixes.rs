//! Ids a person can type: orders found by a prefix of their id, bounded, with the count of
//! every match, and each with the trace it was placed in.

use ringshop_shared::prefix::{IdPrefix, MAX_CANDIDATES};
use ringshop_shared::trace::TraceId;
use ringshop_shared::{NewOrder, OrderId, OrderLine};

use super::super::test_support::{Fixture, contract_tests, p};
use super::me;

contract_tests!(an_id_prefix_finds_the_first_orders_by_id_and_counts_them_all);

fn order(id: &str) -> NewOrder {
    NewOrder {
        id: id.parse::<OrderId>().expect("a UUID"),
        customer: "ada".into(),
        lines: vec![OrderLine {
            product: p("mug"),
            qty: 1,
        }],
    }
}

fn prefix(text: &str) -> IdPrefix {
    IdPrefix::parse(text).expect("a prefix")
}

const PLACED_IN: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

async fn an_id_prefix_finds_the_first_orders_by_id_and_counts_them_all(f: Fixture) {
    let f = f.seeded().await;
    // Twelve under abcdef01, one under abcdef02, and neighbours on either side.
    let mut ids: Vec<String> = (0..12)
        .map(|i| format!("abcdef01-0000-4000-8000-{i:012}"))
        .collect();
    ids.push("abcdef02-0000-4000-8000-000000000000".into());
    ids.push("abcdee99-0000-4000-8000-000000000000".into());
    ids.push("abcdf000-0000-4000-8000-000000000000".into());
    for (i, id) in ids.iter().enumerate() {
        let traced = (i == 3).then_some(PLACED_IN);
        f.store
            .create_order(&order(id), 1200, &me(), traced)
            .await
            .expect("stored");
    }
    let found = f
        .store
        .orders_by_prefix(&prefix("ABCDEF"), MAX_CANDIDATES as u32)
        .await
        .expect("finds");
    assert_eq!(found.total, 13, "every match is counted");
    let first: Vec<String> = found.first.iter().map(|o| o.id.to_string()).collect();
    assert_eq!(first, ids[..MAX_CANDIDATES], "the first ten by id");
    assert_eq!(
        found.first[3].trace_id,
        TraceId::from_traceparent(PLACED_IN),
        "an order carries the trace it was placed in"
    );
    assert_eq!(found.first[0].trace_id, None, "an untraced one has none");

    let across_a_dash = f
        .store
        .orders_by_prefix(&prefix("abcdef0100004000800000000000000"), 10)
        .await
        .expect("finds");
    assert_eq!(across_a_dash.total, 10, "…0 to …9 of the twelve");
    let one = f
        .store
        .orders_by_prefix(&prefix("abcdef02"), 10)
        .await
        .expect("finds");
    assert_eq!((one.total, one.first.len()), (1, 1));
    assert_eq!(one.first[0].id.to_string(), ids[12]);
    let whole = f
        .store
        .orders_by_prefix(&prefix(&ids[14]), 10)
        .await
        .expect("finds");
    assert_eq!(whole.total, 1, "a whole id finds itself");
    let none = f
        .store
        .orders_by_prefix(&prefix("123456"), 10)
        .await
        .expect("finds");
    assert_eq!((none.total, none.first.len()), (0, 0));
}
