//! `ringshop info`: where things are, without starting anything. The version; the config file
//! (where it is looked for, whether it is there, what it sets, or every problem by path:line);
//! the TUI's log; the state folder and the customer's kept cart; and the cluster ringshop would
//! join: the `--join` flags, else the config file's `join`, else an embedded cluster. `--json`
//! prints the same as one JSON document.

use std::net::SocketAddr;

use ringshop_shared::duration::short;
use ringshop_shared::shop::{GUEST, items};
use serde_json::{Value, json};

use super::args::InfoArgs;
use super::failure::Failure;
use crate::files::cart;
use crate::files::config::{self, Loaded, Palette};
use crate::files::paths::Dirs;

/// Where the cluster comes from.
fn join(args: &InfoArgs, config: &Loaded) -> (&'static str, Vec<SocketAddr>) {
    if !args.target.nodes.is_empty() {
        ("flags", args.target.nodes.clone())
    } else if !config.config.join.is_empty() {
        ("config", config.config.join.clone())
    } else {
        ("embedded", Vec::new())
    }
}

/// The roles `[theme]` changed from the defaults, and their colours.
fn theme(palette: &Palette) -> Value {
    let default = Palette::default();
    let pairs = [
        ("key", palette.key, default.key),
        ("ok", palette.ok, default.ok),
        ("warn", palette.warn, default.warn),
        ("error", palette.error, default.error),
        ("bar", palette.bar, default.bar),
        ("live", palette.live, default.live),
    ];
    let changed: serde_json::Map<String, Value> = pairs
        .into_iter()
        .filter(|(_, set, default)| set != default)
        .map(|(role, set, _)| (role.to_string(), Value::from(set.to_string())))
        .collect();
    Value::Object(changed)
}

/// Everything `info` says, as its JSON document (the text is read from it too).
pub fn facts(args: &InfoArgs, dirs: &Dirs) -> Value {
    let loaded = match &args.config {
        Some(loaded) => loaded.clone(),
        None => config::load(dirs.config_file().as_deref()),
    };
    let customer = args.customer.clone().unwrap_or_else(|| GUEST.to_string());
    let cart_file = dirs.cart_file(&customer);
    let (cart_items, cart_problem) = match cart::peek(&cart_file) {
        Ok(lines) => (lines.iter().map(|l| l.qty).sum::<u32>(), None),
        Err(problem) => (0, Some(problem)),
    };
    let (from, nodes) = join(args, &loaded);
    let set = &loaded.config;
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "config": {
            "path": loaded.path,
            "found": loaded.found,
            "applied": loaded.found && loaded.problems.is_empty(),
            "problems": loaded.problem_lines(),
            "settings": {
                "color": set.color.map(|c| c.as_str()),
                "mouse": set.mouse,
                "refresh_ms": set.refresh.map(|d| d.as_millis() as u64),
                "join": set.join.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "keys": set.keys.iter().map(|r| json!({"action": r.action, "keys": r.keys})).collect::<Vec<_>>(),
                "theme": theme(&set.theme),
            },
        },
        "log": dirs.log_file(),
        "state_dir": dirs.state,
        "cart": {
            "customer": customer,
            "path": cart_file,
            "items": cart_items,
            "problem": cart_problem,
        },
        "join": {
            "from": from,
            "nodes": nodes.iter().map(ToString::to_string).collect::<Vec<_>>(),
        },
    })
}

pub fn run(args: &InfoArgs) -> Result<(), Failure> {
    let facts = facts(args, &Dirs::from_env());
    if args.target.json {
        println!("{facts}");
    } else {
        print!("{}", text(&facts));
    }
    Ok(())
}

/// The facts as a person reads them: one labelled line each, problems indented under theirs.
fn text(facts: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("-").to_string();
    let config = &facts["config"];
    let set = &config["settings"];
    let path = if config["path"].is_null() {
        "none (no HOME or XDG_CONFIG_HOME)".to_string()
    } else {
        s(&config["path"])
    };
    let problems: Vec<String> = config["problems"]
        .as_array()
        .map(|a| a.iter().map(s).collect())
        .unwrap_or_default();
    let config_state = if !config["found"].as_bool().unwrap_or(false) {
        "not there: the defaults apply".to_string()
    } else if !problems.is_empty() {
        format!(
            "ignored, the defaults apply: {} problem{}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        )
    } else {
        let mut parts = Vec::new();
        if let Some(c) = set["color"].as_str() {
            parts.push(format!("color {c}"));
        }
        if let Some(m) = set["mouse"].as_bool() {
            parts.push(format!("mouse {}", if m { "on" } else { "off" }));
        }
        if let Some(ms) = set["refresh_ms"].as_u64() {
            parts.push(format!(
                "refresh {}",
                short(std::time::Duration::from_millis(ms))
            ));
        }
        if let Some(join) = set["join"].as_array().filter(|j| !j.is_empty()) {
            let join: Vec<String> = join.iter().map(s).collect();
            parts.push(format!("join {}", join.join(", ")));
        }
        if let Some(keys) = set["keys"].as_array().filter(|k| !k.is_empty()) {
            let keys: Vec<String> = keys
                .iter()
                .map(|k| {
                    let on: Vec<String> = k["keys"]
                        .as_array()
                        .map_or(Vec::new(), |a| a.iter().map(s).collect());
                    format!("{} on {}", s(&k["action"]), on.join("/"))
                })
                .collect();
            parts.push(format!("keys: {}", keys.join(", ")));
        }
        if let Some(theme) = set["theme"].as_object().filter(|t| !t.is_empty()) {
            let roles: Vec<String> = theme
                .iter()
                .map(|(role, c)| format!("{role} {}", s(c)))
                .collect();
            parts.push(format!("theme: {}", roles.join(", ")));
        }
        match parts.is_empty() {
            true => "read: it sets nothing".to_string(),
            false => format!("read: {}", parts.join(", ")),
        }
    };
    let mut out = format!("ringshop {}\n", s(&facts["version"]));
    out.push_str(&format!("config  {path} ({config_state})\n"));
    for p in &problems {
        out.push_str(&format!("          {p}\n"));
    }
    out.push_str(&format!("log     {}\n", s(&facts["log"])));
    out.push_str(&format!("state   {}\n", s(&facts["state_dir"])));
    let cart = &facts["cart"];
    let held = match cart["problem"].as_str() {
        Some(problem) => format!("{problem}; the TUI sets it aside when it starts"),
        None => match cart["items"].as_u64().unwrap_or(0) {
            0 => "empty".to_string(),
            n => format!("{} kept", items(n as u32)),
        },
    };
    out.push_str(&format!(
        "cart    {} ({}: {held})\n",
        s(&cart["path"]),
        s(&cart["customer"])
    ));
    let join = &facts["join"];
    let nodes: Vec<String> = join["nodes"]
        .as_array()
        .map(|a| a.iter().map(s).collect())
        .unwrap_or_default();
    let joins = match join["from"].as_str() {
        Some("flags") => format!("{} (from --join)", nodes.join(", ")),
        Some("config") => format!("{} (from the config file)", nodes.join(", ")),
        _ => {
            "an embedded cluster of 3 nodes in this process (no --join, no join in the config file)"
                .to_string()
        }
    };
    out.push_str(&format!("joins   {joins}\n"));
    out
}
