//! The config file's `[theme]`: the colour of each role the screen paints. The defaults are
//! the terminal's own 16 colours (they follow its light or dark scheme); a role may take any of
//! them by name ("light-blue"), a 256-colour index (208) or "#rrggbb". Colour never carries
//! meaning alone, so a palette can only make things easier or harder to see, never hide them;
//! `color = "never"` still turns every colour off.

use std::str::FromStr;

use ratatui::style::Color;

use super::syntax::{Entry, Value};

/// The colour of each role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Palette {
    /// Keys in the footer and the `?` overlay.
    pub key: Color,
    /// UP, done, a cache hit.
    pub ok: Color,
    /// Joining or leaving, an order under way, a stale row.
    pub warn: Color,
    /// DOWN, failed, an error toast.
    pub error: Color,
    /// The ring share and other bars.
    pub bar: Color,
    /// A row kept live by the stock feed.
    pub live: Color,
}

impl Default for Palette {
    fn default() -> Palette {
        Palette {
            key: Color::Cyan,
            ok: Color::Green,
            warn: Color::Yellow,
            error: Color::Red,
            bar: Color::Blue,
            live: Color::Cyan,
        }
    }
}

/// The roles `[theme]` may set.
pub const ROLES: [&str; 6] = ["key", "ok", "warn", "error", "bar", "live"];

impl Palette {
    /// Sets the role `entry` names; the message says what is wrong otherwise.
    pub fn set(&mut self, entry: &Entry) -> Result<(), String> {
        let role = entry.key.as_str();
        let slot = match role {
            "key" => &mut self.key,
            "ok" => &mut self.ok,
            "warn" => &mut self.warn,
            "error" => &mut self.error,
            "bar" => &mut self.bar,
            "live" => &mut self.live,
            _ => {
                return Err(format!(
                    "unknown role {role:?} under [theme]; the roles are {}",
                    ROLES.join(", ")
                ));
            }
        };
        *slot = colour(role, &entry.value)?;
        Ok(())
    }
}

fn colour(role: &str, value: &Value) -> Result<Color, String> {
    let hint = "a colour name (\"light-blue\"), a 256-colour index (208) or \"#rrggbb\"";
    match value {
        Value::Str(s) => Color::from_str(s).map_err(|_| format!("{role}: {s:?} is not {hint}")),
        Value::Int(i) => u8::try_from(*i)
            .map(Color::Indexed)
            .map_err(|_| format!("{role}: {i} is not a colour index (0 to 255)")),
        other => Err(format!("{role} is {hint}, not {}", other.shown())),
    }
}
