//! The four factors a scorer rates, and their levels 1-5 (5 is best for the agency).

use super::DomainError;

/// One of the four factors of the scoring model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Factor {
    ClientEngagement,
    SearchDifficulty,
    TimeOpen,
    FeeSize,
}

impl Factor {
    /// All factors, in the order the team's rubric lists them.
    pub const ALL: [Factor; 4] = [
        Factor::ClientEngagement,
        Factor::SearchDifficulty,
        Factor::TimeOpen,
        Factor::FeeSize,
    ];

    /// The field name used in forms, JSON and the database.
    pub fn key(self) -> &'static str {
        match self {
            Factor::ClientEngagement => "client_engagement",
            Factor::SearchDifficulty => "search_difficulty",
            Factor::TimeOpen => "time_open",
            Factor::FeeSize => "fee_size",
        }
    }

    /// The name the team uses on pages.
    pub fn label(self) -> &'static str {
        match self {
            Factor::ClientEngagement => "Client engagement",
            Factor::SearchDifficulty => "Search difficulty",
            Factor::TimeOpen => "Time open",
            Factor::FeeSize => "Fee size",
        }
    }

    /// Which end of the scale is 5, in words, so that no reader takes it the wrong way
    /// round (a 5 in search difficulty is a large pool, an easy search).
    pub fn scale(self) -> &'static str {
        match self {
            Factor::ClientEngagement => "5 = very responsive client",
            Factor::SearchDifficulty => "5 = easy to fill",
            Factor::TimeOpen => "5 = newly opened",
            Factor::FeeSize => "5 = largest fee",
        }
    }

    /// The name with its scale, as forms, tables and the review head a factor:
    /// "Search difficulty — 5 = easy to fill". Exports keep [`Factor::key`].
    pub fn heading(self) -> &'static str {
        match self {
            Factor::ClientEngagement => "Client engagement — 5 = very responsive client",
            Factor::SearchDifficulty => "Search difficulty — 5 = easy to fill",
            Factor::TimeOpen => "Time open — 5 = newly opened",
            Factor::FeeSize => "Fee size — 5 = largest fee",
        }
    }

    /// The rubric text for a level of this factor, from the team's scoring model.
    /// Time open and fee size describe the default bands.
    pub fn rubric(self, level: Level) -> &'static str {
        let i = usize::from(5 - level.get());
        match self {
            Factor::ClientEngagement => [
                "Replies within 24 h, books interviews fast, detailed feedback",
                "Replies within 48 h, feedback given",
                "Replies within a week, some delays",
                "Over a week, frequent delays, little feedback",
                "Unresponsive, no feedback, ghosts candidates",
            ][i],
            Factor::SearchDifficulty => [
                "Large talent pool, common skills",
                "Good pool, standard requirements",
                "Limited pool, some specialist skills",
                "Scarce talent, niche skills",
                "Extremely rare combination, severe constraints",
            ][i],
            Factor::TimeOpen => [
                "New: 0-14 days",
                "15-30 days",
                "31-60 days",
                "61-90 days",
                "Over 90 days",
            ][i],
            Factor::FeeSize => [
                "40,000 or more",
                "30,000-39,999",
                "20,000-29,999",
                "10,000-19,999",
                "Under 10,000",
            ][i],
        }
    }
}

/// A factor level: a whole number from 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level(u8);

impl Level {
    /// All levels from best to worst, as forms list them.
    pub const ALL_DESC: [Level; 5] = [Level(5), Level(4), Level(3), Level(2), Level(1)];

    /// Validates a level for the named field.
    pub fn new(field: &'static str, value: i64) -> Result<Level, DomainError> {
        if (1..=5).contains(&value) {
            Ok(Level(value as u8))
        } else {
            Err(DomainError::FactorOutOfRange {
                field,
                value: value.to_string(),
            })
        }
    }

    /// Parses a level from text such as a form field.
    pub fn parse(field: &'static str, text: &str) -> Result<Level, DomainError> {
        match text.trim().parse::<i64>() {
            Ok(v) => Level::new(field, v),
            Err(_) => Err(DomainError::FactorOutOfRange {
                field,
                value: format!("{text:?}"),
            }),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The four levels of one submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactorScores {
    pub client_engagement: Level,
    pub search_difficulty: Level,
    pub time_open: Level,
    pub fee_size: Level,
}

impl FactorScores {
    /// Validates four raw values, reporting every bad one at once.
    pub fn from_values(values: [i64; 4]) -> Result<FactorScores, Vec<DomainError>> {
        let mut errors = Vec::new();
        let mut levels = [Level(1); 4];
        for (i, factor) in Factor::ALL.iter().enumerate() {
            match Level::new(factor.key(), values[i]) {
                Ok(l) => levels[i] = l,
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(FactorScores {
                client_engagement: levels[0],
                search_difficulty: levels[1],
                time_open: levels[2],
                fee_size: levels[3],
            })
        } else {
            Err(errors)
        }
    }

    pub fn get(&self, factor: Factor) -> Level {
        match factor {
            Factor::ClientEngagement => self.client_engagement,
            Factor::SearchDifficulty => self.search_difficulty,
            Factor::TimeOpen => self.time_open,
            Factor::FeeSize => self.fee_size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_outside_one_to_five_are_refused_by_name() {
        assert!(Level::new("fee_size", 0).is_err());
        assert!(Level::new("fee_size", 6).is_err());
        let err = Level::parse("time_open", "three").unwrap_err();
        assert!(err.to_string().contains("time_open"), "{err}");
        assert_eq!(Level::new("x", 5).unwrap().get(), 5);
    }

    #[test]
    fn each_heading_is_the_label_and_the_scale_that_matches_the_rubric() {
        for f in Factor::ALL {
            assert_eq!(f.heading(), format!("{} — {}", f.label(), f.scale()));
            assert!(f.scale().starts_with("5 = "), "{f:?}");
        }
        // 5 in search difficulty is the large, easy pool of the rubric.
        assert_eq!(Factor::SearchDifficulty.scale(), "5 = easy to fill");
        assert!(
            Factor::SearchDifficulty
                .rubric(Level(5))
                .contains("Large talent pool")
        );
        assert!(Factor::TimeOpen.rubric(Level(5)).starts_with("New"));
    }

    #[test]
    fn every_bad_factor_is_reported() {
        let errs = FactorScores::from_values([0, 3, 9, 2]).unwrap_err();
        let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(errs.len(), 2);
        assert!(text[0].contains("client_engagement"));
        assert!(text[1].contains("time_open"));
    }
}

/// A team member's role, from the scoring model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Ceo,
    AccountManager,
    SalesPerson,
    Other,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Ceo,
        Role::AccountManager,
        Role::SalesPerson,
        Role::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ceo => "ceo",
            Role::AccountManager => "account_manager",
            Role::SalesPerson => "sales_person",
            Role::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Ceo => "CEO",
            Role::AccountManager => "Account manager",
            Role::SalesPerson => "Sales person",
            Role::Other => "Read-only",
        }
    }

    /// How the page header names a user of this role: the role's label, except that a
    /// user of role `other` who scores is a "Scorer", and anyone else who does not score
    /// (the CEO aside) is said to be read-only.
    pub fn label_for(self, scores: bool) -> &'static str {
        match (self, scores) {
            (Role::Ceo, _) => "CEO",
            (Role::Other, true) => "Scorer",
            (Role::Other, false) => "Read-only",
            (Role::AccountManager, true) => "Account manager",
            (Role::AccountManager, false) => "Account manager, read-only",
            (Role::SalesPerson, true) => "Sales person",
            (Role::SalesPerson, false) => "Sales person, read-only",
        }
    }

    pub fn parse(s: &str) -> Result<Role, DomainError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| DomainError::Invalid {
                field: "role",
                reason: format!("{s:?} is not one of ceo, account_manager, sales_person, other"),
            })
    }

    /// By default the CEO, the account manager and the sales person score.
    pub fn scores_by_default(self) -> bool {
        !matches!(self, Role::Other)
    }

    /// The CEO administers settings and reviews scoring patterns.
    pub fn administers(self) -> bool {
        matches!(self, Role::Ceo)
    }
}
