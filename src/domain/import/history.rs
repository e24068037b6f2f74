//! A visit history another tool exported, one entry per visit, summed per UTC day and country:
//! all sharetrail keeps of it. The visitors' addresses, browsers and referrers stay behind.

use super::super::analytics::UNKNOWN;
use super::super::visit::Country;
use chrono::DateTime;
use std::collections::BTreeMap;

/// People and bots on one day from one country.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisitTally {
    /// Visits the tool took for people: what sharetrail would count as clicks.
    pub clicks: u64,
    pub bots: u64,
}

/// Visits by (UTC day `YYYY-MM-DD`, country code or `unknown`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitHistory {
    tallies: BTreeMap<(String, String), VisitTally>,
}

impl VisitHistory {
    /// Counts one visit at `at` (Unix milliseconds) from `country`; `None` when `at` is out of
    /// the calendar's range.
    pub fn add(&mut self, at: i64, country: Option<Country>, bot: bool) -> Option<()> {
        let day = DateTime::from_timestamp_millis(at)?.format("%Y-%m-%d").to_string();
        let country = country.as_ref().map_or(UNKNOWN, Country::as_str).to_owned();
        let tally = self.tallies.entry((day, country)).or_default();
        match bot {
            true => tally.bots += 1,
            false => tally.clicks += 1,
        }
        Some(())
    }

    /// `(day, country, tally)`, by day then country.
    pub fn tallies(&self) -> impl Iterator<Item = (&str, &str, VisitTally)> {
        self.tallies
            .iter()
            .map(|((day, country), tally)| (day.as_str(), country.as_str(), *tally))
    }

    /// Visits by people, all days.
    pub fn clicks(&self) -> u64 {
        self.tallies.values().map(|t| t.clicks).sum()
    }

    pub fn bots(&self) -> u64 {
        self.tallies.values().map(|t| t.bots).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.tallies.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_sum_per_utc_day_and_country_with_bots_apart() {
        let mut history = VisitHistory::default();
        let day = 86_400_000;
        // 2024-07-02T23:30:00Z and 2024-07-03T00:30:00Z: two days, whatever the local time.
        let late = 1_719_963_000_000;
        history.add(late, Country::parse("fr"), false).unwrap();
        history.add(late + 3_600_000, Country::parse("FR"), false).unwrap();
        history.add(late + 3_600_000, Country::parse("FR"), true).unwrap();
        history.add(late + day, None, false).unwrap();
        let rows: Vec<_> = history.tallies().collect();
        assert_eq!(
            rows,
            [
                ("2024-07-02", "FR", VisitTally { clicks: 1, bots: 0 }),
                ("2024-07-03", "FR", VisitTally { clicks: 1, bots: 1 }),
                ("2024-07-03", "unknown", VisitTally { clicks: 1, bots: 0 }),
            ]
        );
        assert_eq!((history.clicks(), history.bots()), (3, 1));
        assert_eq!(history.add(i64::MAX, None, false), None);
    }
}
