//! The domain's words as types: a `Period` (a year or a two-year cycle), a
//! `DepartmentId` (one specialty in one institution), why a cell is
//! suppressed (`SuppressionReason`), and the privacy floor's one rule.
//!
//! Every stage uses these instead of parsing strings itself. This module
//! does no I/O and knows no stage: it is the vocabulary the stages share.

use std::fmt;

/// The scale id of an instrument's total score (beside its subscales).
pub const TOTAL: &str = "total";

/// The absolute minimum privacy floor: neither the region's setting nor an
/// instrument's definition may go below it (results of fewer respondents
/// can identify them).
pub const ABSOLUTE_MIN_FLOOR: u32 = 3;

/// The privacy floor's one rule: an instrument's own floor can raise the
/// region's (`privacy.floor`), never lower it.
pub fn privacy_floor(region: u32, instrument: Option<u32>) -> u32 {
    instrument.unwrap_or(region).max(region)
}

/// The default narrowest interval the published sums may leave a
/// too-small cell's mean in, as a fraction of its scale range
/// (`privacy.min_interval_width`): on a 1-5 scale a reader must not be able
/// to say more than "within 0.8 points". A setting, not a norm from a
/// source: 20% is the minimum issue #20 asks for.
pub const MIN_INTERVAL_WIDTH: f64 = 0.20;

/// Checks a floor someone wrote down against the absolute minimum; the
/// message says why.
pub fn check_floor(floor: u32) -> Result<u32, String> {
    if floor < ABSOLUTE_MIN_FLOOR {
        Err(format!(
            "{floor} is below the absolute minimum of {ABSOLUTE_MIN_FLOOR}: results of fewer respondents can identify them"
        ))
    } else {
        Ok(floor)
    }
}

/// A period of the aggregates: a calendar year (`2024`) or a two-year cycle
/// (`2023-2024`).
///
/// Periods order as their texts do (`2023` < `2023-2024` < `2024`), which is
/// the order of the written tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// One calendar year.
    Year(i32),
    /// A two-year cycle: its first year (the second is the next).
    Cycle(i32),
}

impl Period {
    /// The cycle that starts in `first`.
    pub fn cycle(first: i32) -> Period {
        Period::Cycle(first)
    }

    /// The cycle a year lies in, with cycles counted from `first_cycle_year`
    /// (2019 gives 2019-2020, 2021-2022, ...).
    pub fn cycle_of(year: i32, first_cycle_year: i32) -> Period {
        let start = first_cycle_year + (year - first_cycle_year).div_euclid(2) * 2;
        Period::Cycle(start)
    }

    /// Parses `2024` or `2023-2024`; None for anything else.
    pub fn parse(s: &str) -> Option<Period> {
        match s.split_once('-') {
            None => s.parse().ok().map(Period::Year),
            Some((a, b)) => {
                let (a, b): (i32, i32) = (a.parse().ok()?, b.parse().ok()?);
                (b == a + 1).then_some(Period::Cycle(a))
            }
        }
    }

    /// Whether a period's text is a cycle's (`2023-2024`), without parsing
    /// it: for sort keys over many rows.
    pub fn text_is_cycle(text: &str) -> bool {
        text.contains('-')
    }

    /// Whether this is a two-year cycle.
    pub fn is_cycle(self) -> bool {
        matches!(self, Period::Cycle(_))
    }

    /// The calendar years the period covers.
    pub fn years(self) -> Vec<i32> {
        match self {
            Period::Year(y) => vec![y],
            Period::Cycle(a) => vec![a, a + 1],
        }
    }

    /// The first year.
    pub fn first_year(self) -> i32 {
        match self {
            Period::Year(y) | Period::Cycle(y) => y,
        }
    }

    /// The last year.
    pub fn last_year(self) -> i32 {
        match self {
            Period::Year(y) => y,
            Period::Cycle(a) => a + 1,
        }
    }

    /// The period of the same kind just before this one.
    pub fn previous(self) -> Period {
        match self {
            Period::Year(y) => Period::Year(y - 1),
            Period::Cycle(a) => Period::Cycle(a - 2),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Year(y) => write!(f, "{y}"),
            Period::Cycle(a) => write!(f, "{a}-{}", a + 1),
        }
    }
}

impl Ord for Period {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // As the texts sort: by first year, a year before the cycle it
        // starts.
        (self.first_year(), self.is_cycle()).cmp(&(other.first_year(), other.is_cycle()))
    }
}

impl PartialOrd for Period {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A department: one specialty in one institution, written
/// `institution:specialty` in the `unit_id` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DepartmentId<'a> {
    /// Institution id.
    pub institution: &'a str,
    /// Specialty code.
    pub specialty: &'a str,
}

impl<'a> DepartmentId<'a> {
    /// The department of `specialty` in `institution`.
    pub fn new(institution: &'a str, specialty: &'a str) -> DepartmentId<'a> {
        DepartmentId {
            institution,
            specialty,
        }
    }

    /// Parses a department's `unit_id`.
    pub fn parse(unit_id: &'a str) -> Option<DepartmentId<'a>> {
        let (institution, specialty) = unit_id.split_once(':')?;
        Some(DepartmentId::new(institution, specialty))
    }

    /// The `unit_id` text.
    pub fn unit_id(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for DepartmentId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.institution, self.specialty)
    }
}

/// Why a cell's values are withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SuppressionReason {
    /// Fewer distinct respondents than the privacy floor.
    MinN,
    /// Passes the floor, but hidden so that a suppressed cell cannot be
    /// recovered by subtraction (a complement).
    Secondary,
    /// Passes the floor, but outside the tables that are published, by a
    /// rule that says which linked tables are (`privacy::publish`): an
    /// institution's total where it is one department or where one of its
    /// departments is hidden, a department's year where its other year or
    /// its cycle is hidden. Recovering such a cell reveals no small group,
    /// so the checkers do not count it; it protects what it is linked to
    /// only as far as it cannot itself be worked out.
    NotPublished,
}

impl SuppressionReason {
    /// The text of the `suppression_reason` column.
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionReason::MinN => "min_n",
            SuppressionReason::Secondary => "secondary",
            SuppressionReason::NotPublished => "not_published",
        }
    }

    /// Parses the `suppression_reason` column.
    pub fn parse(s: &str) -> Option<SuppressionReason> {
        [
            SuppressionReason::MinN,
            SuppressionReason::Secondary,
            SuppressionReason::NotPublished,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

impl fmt::Display for SuppressionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of finding a rule makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Something the R-COC should look at.
    Signal,
    /// A reliable score below the threshold.
    Improvement,
    /// A reliable score at or above the strength threshold, or a
    /// significant improvement.
    Strength,
}

impl Kind {
    /// The text of the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Signal => "signal",
            Kind::Improvement => "improvement",
            Kind::Strength => "strength",
        }
    }
}

/// The rule that fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// mean_pomp ≥ rules.strength_pomp.
    HighScore,
    /// mean_pomp < rules.improvement_pomp.
    LowScore,
    /// Significant decline with |g| ≥ rules.decline_effect.
    Decline,
    /// Improvement point in this cycle and the previous one.
    TwoCyclesRunning,
    /// Response rate below rules.min_response_rate.
    LowResponse,
    /// The calendar expected a measurement that is not in the data.
    Missing,
    /// A significant improvement with g ≥ rules.decline_effect.
    Improved,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 7] = [
        Rule::HighScore,
        Rule::LowScore,
        Rule::Decline,
        Rule::TwoCyclesRunning,
        Rule::LowResponse,
        Rule::Missing,
        Rule::Improved,
    ];

    /// The rule's name in finding ids and the `rule` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::HighScore => "high_score",
            Rule::LowScore => "low_score",
            Rule::Decline => "decline",
            Rule::TwoCyclesRunning => "two_cycles_running",
            Rule::LowResponse => "low_response",
            Rule::Missing => "missing",
            Rule::Improved => "improved",
        }
    }

    /// Parses a rule's name.
    pub fn parse(s: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A finding's stable identity: the same finding has the same id on every
/// run, so that a decision or an action in the quality register keeps
/// pointing at it. Written
/// `<cycle>/<unit>/<instrument>/<scale>/<rule>`, for example
/// `2021-2022/heemdaal:int/d-rect/educational_atmosphere/low_score`; a
/// missing measurement adds its year: `.../total/missing-2024`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FindingId {
    /// The cycle (`2023-2024`).
    pub cycle: String,
    /// The unit: a department (`institution:specialty`), an RSO or a
    /// region id.
    pub unit_id: String,
    /// Instrument id.
    pub instrument: String,
    /// Subscale id or `total`.
    pub scale_id: String,
    /// The rule.
    pub rule: Rule,
    /// The year of a missing measurement.
    pub year: Option<i32>,
}

impl FindingId {
    /// Parses an id as written in the register; the message says what is
    /// wrong with it.
    pub fn parse(text: &str) -> Result<FindingId, String> {
        let parts: Vec<&str> = text.trim().split('/').map(str::trim).collect();
        let [cycle, unit, instrument, scale, rule] = parts[..] else {
            return Err("a finding id has five parts separated by /, like 2021-2022/heemdaal:int/d-rect/educational_atmosphere/low_score: copy it from the report or the findings sheet".into());
        };
        if !Period::parse(cycle).is_some_and(Period::is_cycle) {
            return Err(format!(
                "{cycle:?} is not a cycle like 2023-2024 (the first part of a finding id)"
            ));
        }
        let (rule_text, year) = match rule.split_once('-') {
            Some((r, y)) => (
                r,
                Some(y.parse::<i32>().map_err(|_| {
                    format!("{rule:?}: a missing measurement is written missing-2024")
                })?),
            ),
            None => (rule, None),
        };
        let rule = Rule::parse(rule_text).ok_or_else(|| {
            format!(
                "{rule_text:?} is not a rule; rules are {}",
                Rule::ALL.map(Rule::as_str).join(", ")
            )
        })?;
        if (rule == Rule::Missing) != year.is_some() {
            return Err("only a missing measurement has a year: missing-2024".into());
        }
        Ok(FindingId {
            cycle: cycle.to_string(),
            unit_id: unit.to_string(),
            instrument: instrument.to_string(),
            scale_id: scale.to_string(),
            rule,
            year,
        })
    }
}

impl FindingId {
    /// Whether two ids are about the same thing (cycle, unit, instrument,
    /// scale and year), whichever rule fired: a low score and "two cycles
    /// running" of one subscale are answered by the same action.
    pub fn same_subject(&self, other: &FindingId) -> bool {
        self.cycle == other.cycle
            && self.unit_id == other.unit_id
            && self.instrument == other.instrument
            && self.scale_id == other.scale_id
            && self.year == other.year
    }
}

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}/{}",
            self.cycle,
            self.unit_id,
            self.instrument,
            self.scale_id,
            self.rule.as_str()
        )?;
        if let Some(y) = self.year {
            write!(f, "-{y}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_sort_as_their_texts() {
        let texts = ["2019", "2019-2020", "2020", "2021", "2021-2022", "2022"];
        let mut periods: Vec<Period> = texts.iter().map(|t| Period::parse(t).unwrap()).collect();
        periods.reverse();
        periods.sort();
        let back: Vec<String> = periods.iter().map(|p| p.to_string()).collect();
        assert_eq!(back, texts);
        assert_eq!(Period::parse("2023-2025"), None);
        assert_eq!(Period::parse("20x4"), None);
    }

    #[test]
    fn a_year_lies_in_the_cycle_counted_from_the_first() {
        assert_eq!(Period::cycle_of(2024, 2019).to_string(), "2023-2024");
        assert_eq!(Period::cycle_of(2019, 2019).to_string(), "2019-2020");
        assert_eq!(Period::cycle_of(2018, 2019).to_string(), "2017-2018");
        assert_eq!(Period::cycle_of(2024, 2020).to_string(), "2024-2025");
        assert_eq!(Period::Cycle(2023).years(), vec![2023, 2024]);
        assert_eq!(Period::Cycle(2023).previous().to_string(), "2021-2022");
    }

    #[test]
    fn the_floor_can_be_raised_never_lowered() {
        assert_eq!(privacy_floor(4, None), 4);
        assert_eq!(privacy_floor(4, Some(6)), 6);
        assert_eq!(privacy_floor(4, Some(3)), 4);
        assert!(check_floor(2).is_err());
        assert_eq!(check_floor(3), Ok(3));
    }

    #[test]
    fn department_ids_round_trip() {
        let d = DepartmentId::new("umcl", "anes");
        assert_eq!(d.to_string(), "umcl:anes");
        assert_eq!(DepartmentId::parse("umcl:anes"), Some(d));
        assert_eq!(DepartmentId::parse("umcl"), None);
        assert_eq!(
            SuppressionReason::parse("min_n"),
            Some(SuppressionReason::MinN)
        );
        assert_eq!(SuppressionReason::Secondary.as_str(), "secondary");
        assert_eq!(
            SuppressionReason::parse("not_published"),
            Some(SuppressionReason::NotPublished)
        );
    }

    #[test]
    fn finding_ids_round_trip_and_explain_mistakes() {
        for text in [
            "2021-2022/heemdaal:int/d-rect/educational_atmosphere/low_score",
            "2023-2024/int-nv/exit/total/decline",
            "2023-2024/zonnestede:neu/mctq/total/missing-2024",
        ] {
            assert_eq!(FindingId::parse(text).unwrap().to_string(), text);
        }
        let id = FindingId::parse(" 2023-2024/a:b/x/y/missing-2024 ").unwrap();
        assert_eq!((id.rule, id.year), (Rule::Missing, Some(2024)));
        for (bad, says) in [
            ("2023-2024/a:b/x/y", "five parts"),
            ("2023/a:b/x/y/low_score", "not a cycle"),
            ("2023-2024/a:b/x/y/lowscore", "not a rule"),
            ("2023-2024/a:b/x/y/low_score-2024", "only a missing"),
            ("2023-2024/a:b/x/y/missing", "only a missing"),
        ] {
            let e = FindingId::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
