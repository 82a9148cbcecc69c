//! Every style the TUI uses, in one place. The default palette is the terminal's 16 colours, so
//! it reads on light and dark themes; the config file's `[theme]` may change each role's
//! colour (`files::config::Palette`); with NO_COLOR set no colour is used at all, and meaning
//! is never carried by colour alone (status words, ▶ markers, % labels).

use ratatui::style::{Color, Modifier, Style};
use ringshop_shared::Stage;

use super::app::Cache;
use crate::client::MemberState;
use crate::files::config::Palette;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    pub palette: Palette,
}

impl Theme {
    /// The default palette, in colour or not.
    pub fn new(color: bool) -> Theme {
        Theme {
            color,
            palette: Palette::default(),
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn text(&self) -> Style {
        Style::default()
    }
    pub fn dim(&self) -> Style {
        Style::default().add_modifier(Modifier::DIM)
    }
    pub fn title(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }
    pub fn active_tab(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }
    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }
    pub fn key(&self) -> Style {
        self.fg(self.palette.key).add_modifier(Modifier::BOLD)
    }
    pub fn ok(&self) -> Style {
        self.fg(self.palette.ok)
    }
    pub fn warn(&self) -> Style {
        self.fg(self.palette.warn)
    }
    pub fn error(&self) -> Style {
        self.fg(self.palette.error).add_modifier(Modifier::BOLD)
    }
    pub fn member(&self, state: MemberState) -> Style {
        match state {
            MemberState::Up => self.ok(),
            MemberState::Joining | MemberState::Leaving => self.warn(),
            MemberState::Down | MemberState::Dead => self.error(),
            MemberState::Left => self.text(),
        }
    }
    pub fn stage(&self, stage: Stage) -> Style {
        match stage {
            Stage::Done => self.ok(),
            Stage::Reserving | Stage::Paying => self.warn(),
            Stage::Failed => self.error(),
            Stage::Accepted => self.text(),
        }
    }
    pub fn cache(&self, cache: Cache) -> Style {
        match cache {
            Cache::Hit => self.ok(),
            Cache::Live => self.fg(self.palette.live),
            Cache::Stale => self.warn(),
            Cache::Miss => self.text(),
        }
    }
    pub fn bar(&self) -> Style {
        self.fg(self.palette.bar)
    }
}
