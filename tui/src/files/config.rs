//! The optional config file (`paths::Dirs::config_file`): settings the command line would
//! otherwise give every time. Flags win over the file. A file with any problem (its syntax, a
//! key this ringshop does not know, a value it cannot use) is not applied at all, so no setting
//! takes effect by half: every problem is reported with its path:line and the defaults are used.
//!
//! ```toml
//! color = "auto"                # "auto" | "always" | "never" (the theme: colours or none)
//! mouse = true                  # false leaves the terminal's own drag-select working
//! refresh = "1s"                # how often live views refresh
//! join = ["127.0.0.1:7001", "7002"]   # the cluster to join instead of an embedded one
//!
//! [keys]                        # actions and their keys (`?` in the TUI lists the actions)
//! checkout = "C"                # one key, or a list: down = ["down", "j", "n"]
//!
//! [theme]                       # each role's colour: a name, an index or "#rrggbb"
//! key = "light-magenta"
//! ```
//!
//! `[keys]` is read here only as far as its syntax (action = key or [keys]); which actions
//! exist, which keys are free and which may not be used (a destructive action on a ctrl chord
//! or a movement key) the screen's key table decides (`screen::keys::Keymap::with`), and its
//! problems join this file's with their line.

mod syntax;
mod theme;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ringshop_shared::duration::parse_duration;

pub use self::syntax::Problem;
use self::syntax::{Entry, Value};
pub use self::theme::{Palette, ROLES};

/// The keys the file may set at its top, as `--help` and the messages list them.
pub const KEYS: [&str; 4] = ["color", "mouse", "refresh", "join"];

/// The tables the file may have.
pub const TABLES: [&str; 2] = ["keys", "theme"];

/// One line of `[keys]`: an action and the keys it should have, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rebind {
    pub action: String,
    pub keys: Vec<String>,
    pub line: usize,
}

/// `color`: when to draw in colour (as `--color`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    pub fn as_str(self) -> &'static str {
        match self {
            Color::Auto => "auto",
            Color::Always => "always",
            Color::Never => "never",
        }
    }
}

/// What the file sets; `None` (or no nodes) where it says nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub color: Option<Color>,
    pub mouse: Option<bool>,
    pub refresh: Option<Duration>,
    pub join: Vec<SocketAddr>,
    /// `[keys]`, in the file's order.
    pub keys: Vec<Rebind>,
    /// The defaults with `[theme]`'s roles set.
    pub theme: Palette,
}

/// The config file as found: where it is looked for, whether it is there, what is wrong with
/// it, and what applies (the defaults when anything is wrong).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// None: no HOME and no XDG_CONFIG_HOME, so no file is looked for.
    pub path: Option<PathBuf>,
    pub found: bool,
    pub problems: Vec<Problem>,
    pub config: Config,
}

impl Loaded {
    /// Each problem as "PATH:LINE: message".
    pub fn problem_lines(&self) -> Vec<String> {
        let path = self.path.as_deref().unwrap_or(Path::new("config.toml"));
        self.problems.iter().map(|p| p.at(path)).collect()
    }

    /// One message for all the problems: the first, how many more, and what happened.
    pub fn summary(&self) -> Option<String> {
        let lines = self.problem_lines();
        let first = lines.first()?;
        let more = match lines.len() {
            1 => String::new(),
            n => format!(" (and {} more: `ringshop info` lists them)", n - 1),
        };
        Some(format!(
            "{first}{more}; the config file is ignored, defaults used"
        ))
    }

    /// Problems found in what the file says by those who use it (the key table): the file is
    /// then not applied at all, like one with a problem of its own.
    pub fn reject(&mut self, problems: Vec<Problem>) {
        if !problems.is_empty() {
            self.problems.extend(problems);
            self.problems.sort_by_key(|p| p.line);
            self.config = Config::default();
        }
    }
}

/// Reads the config file at `path` (none is fine: the defaults).
pub fn load(path: Option<&Path>) -> Loaded {
    let mut loaded = Loaded {
        path: path.map(Path::to_path_buf),
        found: false,
        problems: Vec::new(),
        config: Config::default(),
    };
    let Some(path) = path else { return loaded };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return loaded,
        Err(e) => {
            loaded.found = true;
            loaded.problems.push(Problem {
                line: None,
                message: format!("cannot be read ({e})"),
            });
            return loaded;
        }
    };
    loaded.found = true;
    match parse(&text) {
        Ok(config) => loaded.config = config,
        Err(problems) => loaded.problems = problems,
    }
    loaded
}

/// The settings `text` makes, or every problem in it.
pub fn parse(text: &str) -> Result<Config, Vec<Problem>> {
    let entries = syntax::parse(text)?;
    let mut config = Config::default();
    let mut problems = Vec::new();
    let mut seen: Vec<(Option<String>, String, usize)> = Vec::new();
    let mut unknown_tables: Vec<String> = Vec::new();
    for entry in entries {
        let line = entry.line;
        let problem = |message: String| Problem {
            line: Some(line),
            message,
        };
        if let Some((_, _, first)) = seen
            .iter()
            .find(|(t, k, _)| *t == entry.table && *k == entry.key)
        {
            problems.push(problem(format!(
                "{} is set twice (first on line {first})",
                entry.key
            )));
            continue;
        }
        seen.push((entry.table.clone(), entry.key.clone(), line));
        let set = match entry.table.as_deref() {
            None => top(&mut config, &entry, &mut problems),
            Some("keys") => rebind(&entry).map(|r| config.keys.push(r)),
            Some("theme") => config.theme.set(&entry),
            // A heading that could not be read: its problem is already there.
            Some("") => Ok(()),
            Some(table) if unknown_tables.iter().any(|t| t == table) => Ok(()),
            Some(table) => {
                unknown_tables.push(table.to_string());
                Err(format!(
                    "unknown table [{table}]; the tables are {}",
                    TABLES.map(|t| format!("[{t}]")).join(" and ")
                ))
            }
        };
        if let Err(message) = set {
            problems.push(problem(message));
        }
    }
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems)
    }
}

/// `action = "key"` or `action = ["key", …]` under `[keys]`.
fn rebind(entry: &Entry) -> Result<Rebind, String> {
    let action = entry.key.clone();
    let one = |value: &Value| match value {
        Value::Str(s) => Ok(s.clone()),
        other => Err(format!(
            "{action}: a key is written in quotes, e.g. \"x\" or \"ctrl-x\", not {}",
            other.shown()
        )),
    };
    let keys = match &entry.value {
        Value::List(items) => items
            .iter()
            .map(|(v, _)| one(v))
            .collect::<Result<Vec<_>, _>>()?,
        single => vec![one(single)?],
    };
    if keys.is_empty() {
        return Err(format!("{action} needs at least one key"));
    }
    Ok(Rebind {
        action,
        keys,
        line: entry.line,
    })
}

/// A key at the top of the file.
fn top(config: &mut Config, entry: &Entry, problems: &mut Vec<Problem>) -> Result<(), String> {
    let line = entry.line;
    match entry.key.as_str() {
        "color" => color(&entry.value).map(|c| config.color = Some(c)),
        "mouse" => match entry.value {
            Value::Bool(b) => {
                config.mouse = Some(b);
                Ok(())
            }
            ref other => Err(format!("mouse is true or false, not {}", other.shown())),
        },
        "refresh" => match &entry.value {
            Value::Str(s) => parse_duration(s).map(|d| config.refresh = Some(d)),
            other => Err(format!(
                "refresh is a duration in quotes, e.g. \"1s\" or \"500ms\", not {}",
                other.shown()
            )),
        },
        "join" => match join(&entry.value, line) {
            Ok(nodes) => {
                config.join = nodes;
                Ok(())
            }
            Err(p) => {
                // Already at the line of the bad item.
                problems.push(p);
                Ok(())
            }
        },
        key => Err(format!(
            "unknown key {key:?}; the keys are {} (and the tables {})",
            KEYS.join(", "),
            TABLES.map(|t| format!("[{t}]")).join(", ")
        )),
    }
}

fn color(value: &Value) -> Result<Color, String> {
    match value {
        Value::Str(s) if s == "auto" => Ok(Color::Auto),
        Value::Str(s) if s == "always" => Ok(Color::Always),
        Value::Str(s) if s == "never" => Ok(Color::Never),
        other => Err(format!(
            "color is \"auto\", \"always\" or \"never\", not {}",
            other.shown()
        )),
    }
}

/// `join = "HOST:PORT"`, or a list of them (a bare port number is one on 127.0.0.1); a bad
/// item is named on its own line.
fn join(value: &Value, line: usize) -> Result<Vec<SocketAddr>, Problem> {
    let one = |value: &Value, line: usize| {
        let addr = match value {
            Value::Str(s) => node_addr(s),
            Value::Int(port) => u16::try_from(*port)
                .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
                .map_err(|_| format!("{port} is not a port")),
            other => Err(format!(
                "join lists nodes as \"HOST:PORT\", not {}",
                other.shown()
            )),
        };
        addr.map_err(|message| Problem {
            line: Some(line),
            message: format!("join: {message}"),
        })
    };
    match value {
        Value::List(items) => items.iter().map(|(v, line)| one(v, *line)).collect(),
        single => one(single, line).map(|a| vec![a]),
    }
}

/// A node's address as `--join` and the config file take it: "7001" (on 127.0.0.1),
/// "localhost:7001" or "127.0.0.1:7001".
pub fn node_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.to_socket_addrs()
        .map_err(|e| format!("{text:?} is not an address ({e}); write HOST:PORT or PORT"))?
        .next()
        .ok_or_else(|| format!("{text:?} resolves to no address"))
}

#[cfg(test)]
mod tests;
