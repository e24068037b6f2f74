//! An ordered list of (regex, app) rows, run as one automaton.

use std::borrow::Cow;

use anyhow::Context as _;
use regex::{Regex, RegexSet};

use crate::domain::app::App;

/// Rows compiled together; the earliest matching row wins, which is what lets
/// the tables put specific agents before the generic ones they contain.
pub(super) struct AppTable {
    set: RegexSet,
    any: Regex,
    apps: Vec<App>,
}

impl AppTable {
    pub(super) fn new(rows: &[(&str, App)]) -> anyhow::Result<Self> {
        let patterns = || rows.iter().map(|(pattern, _)| *pattern);
        let set = RegexSet::new(patterns()).context("compiling a user-agent table")?;
        let alternation = patterns()
            .map(|pattern| format!("(?:{pattern})"))
            .collect::<Vec<_>>()
            .join("|");
        let any = Regex::new(&alternation).context("compiling a user-agent table")?;
        let apps = rows.iter().map(|(_, app)| *app).collect();
        Ok(Self { set, any, apps })
    }

    pub(super) fn first_match(&self, user_agent: &str) -> Option<App> {
        // SetMatches iterates in pattern order, so the first index is the
        // first row of the table.
        let index = self.set.matches(user_agent).iter().next()?;
        Some(self.apps[index])
    }

    /// The agent with every marker of this table blanked out, to see what
    /// else it says about itself.
    pub(super) fn remove_markers<'u>(&self, user_agent: &'u str) -> Cow<'u, str> {
        self.any.replace_all(user_agent, " ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_matching_row_wins_and_markers_can_be_removed() {
        let table = AppTable::new(&[("FBAN/Messenger", App::Messenger), ("FBAN/", App::Facebook)]).unwrap();
        assert_eq!(table.first_match("x FBAN/Messenger y"), Some(App::Messenger));
        assert_eq!(table.first_match("x FBAN/FBIOS y"), Some(App::Facebook));
        assert_eq!(table.first_match("Safari"), None);
        assert_eq!(table.remove_markers("x FBAN/FBIOS y"), "x  FBIOS y");
    }
}
