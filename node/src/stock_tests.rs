use std::time::Duration;

use ringshop_shared::{NodeId, Product, ProductId, Quote, StockSeen};

use super::StockFeed;

fn quote(id: &str, price_cents: u64, stock_left: u32) -> Quote {
    Quote {
        product: Product {
            id: ProductId::new(id).expect("valid"),
            name: format!("The {id}"),
            category: "tea".into(),
            price_cents,
        },
        stock_left,
    }
}

fn feed() -> StockFeed {
    StockFeed::new(NodeId::new("n1").expect("valid"))
}

fn id(p: &str) -> ProductId {
    ProductId::new(p).expect("valid")
}

#[test]
fn only_a_change_is_a_new_version() {
    let feed = feed();
    assert!(feed.publish(&quote("teapot", 3900, 14)));
    assert!(
        !feed.publish(&quote("teapot", 3900, 14)),
        "the same quote again"
    );
    assert_eq!(feed.version(), 1);
    assert!(feed.publish(&quote("teapot", 3900, 12)), "stock moved");
    assert!(feed.publish(&quote("teapot", 4100, 12)), "price moved");
    assert_eq!(feed.version(), 3);
}

#[test]
fn a_reservation_moves_the_stock_of_a_known_product_only() {
    let feed = feed();
    assert!(
        !feed.publish_stock(&id("teapot"), 3),
        "unknown to the feed yet"
    );
    assert_eq!(feed.version(), 0);
    feed.publish(&quote("teapot", 3900, 14));
    assert!(feed.publish_stock(&id("teapot"), 12));
    assert!(!feed.publish_stock(&id("teapot"), 12), "no change");
    assert_eq!(feed.known(&id("teapot")), Some(quote("teapot", 3900, 12)));
}

#[test]
fn a_watcher_gets_the_asked_products_that_changed_after_its_version() {
    let feed = feed();
    feed.publish(&quote("teapot", 3900, 14));
    feed.publish(&quote("mug", 800, 50));
    let asked = [id("teapot"), id("mug"), id("kettle")];
    let (seen, all) = feed.since(&asked, 0, &[]);
    assert_eq!((seen, all.len()), (2, 2));
    feed.publish_stock(&id("teapot"), 12);
    feed.publish(&quote("kettle", 3450, 25));
    let (now, news) = feed.since(&[id("teapot"), id("mug")], seen, &[]);
    assert_eq!(now, 4);
    let stocks: Vec<(String, u32)> = news
        .iter()
        .map(|q| (q.value.product.id.to_string(), q.value.stock_left))
        .collect();
    assert_eq!(stocks, [("teapot".to_string(), 12)], "kettle was not asked");
    assert_eq!(news[0].node.as_str(), "n1");
    let (_, forced) = feed.since(&[id("mug")], now, &[id("mug")]);
    assert_eq!(forced.len(), 1, "`all` names it: sent although unchanged");
}

#[test]
fn only_a_seen_of_this_feed_up_to_its_version_follows_it() {
    let (feed, other) = (feed(), feed());
    feed.publish(&quote("teapot", 3900, 14));
    assert!(feed.follows(feed.seen(1)));
    assert!(feed.follows(feed.seen(0)));
    assert!(!feed.follows(StockSeen::default()), "seen nothing");
    assert!(!feed.follows(other.seen(1)), "another feed's version");
    assert!(
        !feed.follows(feed.seen(2)),
        "ahead of the feed: another run's"
    );
}

#[test]
fn the_feed_counts_as_watched_while_a_watch_is_in_flight_and_a_moment_after() {
    let feed = feed();
    assert!(!feed.watched_lately(Duration::from_secs(3600)));
    let watching = feed.watching();
    assert!(feed.watched_lately(Duration::ZERO));
    drop(watching);
    assert!(!feed.watched_lately(Duration::ZERO));
    assert!(feed.watched_lately(Duration::from_secs(3600)));
}
