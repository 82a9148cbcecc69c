//! Every style the TUI uses, in one place. The palette is the terminal's 16 colours, so it
//! reads on light and dark themes; with NO_COLOR set no colour is used at all, and meaning is
//! never carried by colour alone (status words, ▶ markers, % labels).

use ratatui::style::{Color, Modifier, Style};
use ringshop_shared::Stage;

use super::app::Cache;
use crate::client::MemberState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
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
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
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
            Cache::Live => self.fg(Color::Cyan),
            Cache::Stale => self.warn(),
            Cache::Miss => self.text(),
        }
    }
    pub fn bar(&self) -> Style {
        self.fg(Color::Blue)
    }
}
