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
//! ```

mod syntax;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ringshop_shared::duration::parse_duration;

pub use self::syntax::Problem;
use self::syntax::Value;

/// The keys the file may set, as `--help` and the messages list them.
pub const KEYS: [&str; 4] = ["color", "mouse", "refresh", "join"];

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
    let mut seen: Vec<(String, usize)> = Vec::new();
    for entry in entries {
        let line = entry.line;
        let problem = |message: String| Problem {
            line: Some(line),
            message,
        };
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == entry.key) {
            problems.push(problem(format!(
                "{} is set twice (first on line {first})",
                entry.key
            )));
            continue;
        }
        seen.push((entry.key.clone(), line));
        let set = match entry.key.as_str() {
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
                    problems.push(p);
                    continue;
                }
            },
            key => Err(format!(
                "unknown key {key:?}; the keys are {}",
                KEYS.join(", ")
            )),
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
