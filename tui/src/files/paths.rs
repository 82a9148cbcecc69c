//! Where ringshop keeps the user's files, after the XDG base directory spec: state (the TUI's
//! log, the kept carts) in `$XDG_STATE_HOME/ringshop/`, else `~/.local/state/ringshop/`; the
//! config file at `$XDG_CONFIG_HOME/ringshop/config.toml`, else
//! `~/.config/ringshop/config.toml`. As the spec says, a relative or empty variable is ignored.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The folders ringshop uses, read once from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirs {
    /// The state folder (log, carts). Without HOME or XDG_STATE_HOME, the temporary folder's
    /// `ringshop/`.
    pub state: PathBuf,
    /// The config folder; none without HOME or XDG_CONFIG_HOME (then there is no config file).
    pub config: Option<PathBuf>,
}

impl Dirs {
    pub fn from_env() -> Dirs {
        Dirs::from_vars(|name| std::env::var_os(name))
    }

    /// The folders from the variables `var` gives (the environment, or a test's).
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> Dirs {
        let absolute = |name: &str| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
        let home = absolute("HOME");
        let state = absolute("XDG_STATE_HOME")
            .or_else(|| home.as_ref().map(|h| h.join(".local/state")))
            .unwrap_or_else(std::env::temp_dir);
        let config = absolute("XDG_CONFIG_HOME").or_else(|| home.map(|h| h.join(".config")));
        Dirs {
            state: state.join("ringshop"),
            config: config.map(|c| c.join("ringshop")),
        }
    }

    /// The TUI's log file.
    pub fn log_file(&self) -> PathBuf {
        self.state.join("tui.log")
    }

    /// The config file (it need not exist).
    pub fn config_file(&self) -> Option<PathBuf> {
        self.config.as_ref().map(|c| c.join("config.toml"))
    }

    /// The kept cart of `customer`.
    pub fn cart_file(&self, customer: &str) -> PathBuf {
        cart_file_in(&self.state, customer)
    }
}

/// `DIR/cart-NAME.json`, the customer's name kept readable: letters, digits and `-_.@` as they
/// are, any other byte as `%XX` (so `a/b` cannot climb out of the folder and `Ada Lovelace` is
/// `cart-Ada%20Lovelace.json`).
pub fn cart_file_in(dir: &Path, customer: &str) -> PathBuf {
    let mut name = String::from("cart-");
    for b in customer.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.@".contains(&b) {
            name.push(char::from(b));
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    name.push_str(".json");
    dir.join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(vars: &[(&str, &str)]) -> Dirs {
        Dirs::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn xdg_folders_come_first_then_home() {
        let d = dirs(&[
            ("HOME", "/home/ada"),
            ("XDG_STATE_HOME", "/s"),
            ("XDG_CONFIG_HOME", "/c"),
        ]);
        assert_eq!(d.log_file(), PathBuf::from("/s/ringshop/tui.log"));
        assert_eq!(
            d.config_file(),
            Some(PathBuf::from("/c/ringshop/config.toml"))
        );
        let d = dirs(&[("HOME", "/home/ada")]);
        assert_eq!(d.state, PathBuf::from("/home/ada/.local/state/ringshop"));
        assert_eq!(
            d.config_file(),
            Some(PathBuf::from("/home/ada/.config/ringshop/config.toml"))
        );
    }

    #[test]
    fn relative_or_empty_variables_are_ignored_and_no_home_means_no_config() {
        let d = dirs(&[
            ("HOME", "/h"),
            ("XDG_STATE_HOME", "rel"),
            ("XDG_CONFIG_HOME", ""),
        ]);
        assert_eq!(d.state, PathBuf::from("/h/.local/state/ringshop"));
        assert_eq!(d.config, Some(PathBuf::from("/h/.config/ringshop")));
        let d = dirs(&[]);
        assert_eq!(d.config_file(), None);
        assert_eq!(d.state, std::env::temp_dir().join("ringshop"));
    }

    #[test]
    fn a_cart_file_is_per_customer_and_stays_in_its_folder() {
        let dir = Path::new("/s");
        assert_eq!(
            cart_file_in(dir, "guest"),
            PathBuf::from("/s/cart-guest.json")
        );
        assert_eq!(
            cart_file_in(dir, "Ada Lovelace"),
            PathBuf::from("/s/cart-Ada%20Lovelace.json")
        );
        assert_eq!(
            cart_file_in(dir, "../x"),
            PathBuf::from("/s/cart-..%2Fx.json")
        );
        assert_eq!(cart_file_in(dir, "é"), PathBuf::from("/s/cart-%C3%A9.json"));
    }
}
