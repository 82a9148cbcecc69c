//! The config file under the command line (TUI.md 22): what no flag said, the file says. A
//! flag given on the command line always wins (clap says where each value came from); `ringshop
//! info` is left alone, as it reports the file and the flags separately.

use clap::ArgMatches;
use clap::parser::ValueSource;

use super::args::{Cli, ColorChoice, Verb};
use crate::files::config::{Color, Config};

/// Fills in from `config` every setting of `cli` that its command line (`matches`) left at
/// its default.
pub fn apply(cli: &mut Cli, matches: &ArgMatches, config: &Config) {
    let sub = matches.subcommand().map_or(matches, |(_, m)| m);
    let given = |id: &str| {
        sub.try_get_raw(id).is_ok() && sub.value_source(id) == Some(ValueSource::CommandLine)
    };
    let (target, refresh) = match &mut cli.verb {
        Some(Verb::Info(_)) => return,
        None => {
            if config.mouse == Some(false) {
                cli.tui.no_mouse = true;
            }
            (&mut cli.tui.target, Some(&mut cli.tui.refresh))
        }
        Some(Verb::Cluster(a)) => (&mut a.target, Some(&mut a.refresh)),
        Some(Verb::Demo(a)) => (&mut a.target, None),
        Some(Verb::Products(a)) => (&mut a.target, None),
        Some(Verb::Buy(a)) => (&mut a.target, None),
        Some(Verb::Order(a)) => (&mut a.target, None),
        Some(Verb::Orders(a)) => (&mut a.target, None),
        Some(Verb::Trace(a)) => (&mut a.target, None),
    };
    if let (Some(refresh), Some(every), false) = (refresh, config.refresh, given("refresh")) {
        *refresh = every;
    }
    if let (Some(color), false) = (config.color, given("color")) {
        target.color = match color {
            Color::Auto => ColorChoice::Auto,
            Color::Always => ColorChoice::Always,
            Color::Never => ColorChoice::Never,
        };
    }
    if !config.join.is_empty() && !given("nodes") {
        target.nodes = config.join.clone();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::{CommandFactory, FromArgMatches};

    use super::*;

    fn config() -> Config {
        Config {
            color: Some(Color::Never),
            mouse: Some(false),
            refresh: Some(Duration::from_millis(250)),
            join: vec!["127.0.0.1:7009".parse().expect("an address")],
            ..Config::default()
        }
    }

    fn applied(args: &[&str]) -> Cli {
        let matches = Cli::command()
            .try_get_matches_from(std::iter::once("ringshop").chain(args.iter().copied()))
            .expect("parses");
        let mut cli = Cli::from_arg_matches(&matches).expect("parses");
        apply(&mut cli, &matches, &config());
        cli
    }

    #[test]
    fn the_file_fills_in_what_no_flag_said() {
        let cli = applied(&[]);
        assert_eq!(cli.tui.target.color, ColorChoice::Never);
        assert!(cli.tui.no_mouse);
        assert_eq!(cli.tui.refresh, Duration::from_millis(250));
        assert_eq!(cli.tui.target.nodes, config().join);
        let cli = applied(&["cluster", "--watch"]);
        let Some(Verb::Cluster(a)) = cli.verb else {
            panic!("cluster");
        };
        assert_eq!(a.refresh, Duration::from_millis(250));
        assert_eq!(a.target.nodes, config().join);
    }

    #[test]
    fn flags_win_over_the_file() {
        let cli = applied(&["--color", "always", "--refresh", "2s", "--join", "7001"]);
        assert_eq!(cli.tui.target.color, ColorChoice::Always);
        assert_eq!(cli.tui.refresh, Duration::from_secs(2));
        assert_eq!(cli.tui.target.nodes.len(), 1);
        assert_eq!(cli.tui.target.nodes[0].port(), 7001);
        // A global flag before the verb counts as given to the verb.
        let cli = applied(&["--join", "7001", "products", "--color", "auto"]);
        let Some(Verb::Products(a)) = cli.verb else {
            panic!("products");
        };
        assert_eq!(a.target.nodes[0].port(), 7001);
        assert_eq!(a.target.color, ColorChoice::Auto);
    }

    #[test]
    fn info_is_left_as_typed() {
        let Some(Verb::Info(a)) = applied(&["info"]).verb else {
            panic!("info");
        };
        assert!(a.target.nodes.is_empty());
        assert_eq!(a.target.color, ColorChoice::Auto);
    }
}
