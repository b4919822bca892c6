//! One pass over a group's item rows: response scores with the half rule,
//! alpha's item sums, the answer counts per item and the export files
//! behind each RSO's numbers, all from one read of each year partition.
//!
//! Polars would need five queries for this (grouped by text columns on every
//! one of two million item rows per year, each reading the partition again);
//! here each row is looked at once and its texts are numbered as they come,
//! so everything after is done on numbers. The rules are those of `score`:
//! a subscale score is the mean of its answered items when at least
//! `min_answered` of them are answered; the total pools the answers of the
//! subscales that count towards it; alpha uses complete responses only.

// Polars' hash maps (foldhash): several times faster than the standard
// library's on these short keys, and already part of the build.
use polars::prelude::{PlHashMap as HashMap, PlHashSet as HashSet};

use crate::score::{ScaleSpec, TOTAL};

/// Texts numbered in the order they are first seen.
#[derive(Default)]
pub(super) struct Names {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    pub fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_string(), id);
        self.names.push(name.to_string());
        id
    }

    fn opt(&mut self, name: Option<&str>) -> Option<u32> {
        name.map(|n| self.id(n))
    }

    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    pub fn name_of(&self, id: Option<u32>) -> Option<&str> {
        id.map(|i| self.name(i))
    }
}

/// One item row of the dataset, as the pass reads it.
pub(super) struct Row<'a> {
    pub response_id: Option<&'a str>,
    pub scale_id: Option<&'a str>,
    pub item_id: Option<&'a str>,
    pub value: Option<f64>,
    pub scale_min: Option<f64>,
    pub scale_max: Option<f64>,
}

/// What is the same on every row of a response: read at its first row only.
pub(super) struct Head<'a> {
    pub version: Option<&'a str>,
    pub respondent_key: Option<&'a str>,
    pub subject_key: Option<&'a str>,
    pub institution_id: Option<&'a str>,
    pub specialty: Option<&'a str>,
    pub rso_id: Option<&'a str>,
    pub region_id: Option<&'a str>,
    /// Days since 1970-01-01.
    pub submitted_on: Option<i32>,
    pub source_sha256: Option<&'a str>,
}

/// What a response carries on each of its rows, and its answers.
struct Response {
    version: Option<u32>,
    who: u32,
    anonymous: bool,
    subject: Option<u32>,
    unit: Unit,
    /// Per subscale answered: its answers (a handful of subscales, so a
    /// list, not a map).
    answers: Vec<(u32, Answers)>,
    /// After the year is read, per subscale answered: (subscale, complete,
    /// counts towards the total); whether the total is complete.
    complete: Vec<(u32, bool, bool)>,
    total_complete: bool,
}

/// Where a response's numbers count: numbered institution, specialty, RSO,
/// region, and the year.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct Unit {
    pub institution: Option<u32>,
    pub specialty: Option<u32>,
    pub rso: Option<u32>,
    pub region: Option<u32>,
    pub year: i32,
}

/// The answers of one response to one subscale.
#[derive(Default)]
struct Answers {
    sum: f64,
    answered: u32,
    min: Option<f64>,
    max: Option<f64>,
}

impl Answers {
    fn add(&mut self, value: f64, min: Option<f64>, max: Option<f64>) {
        if self.answered == 0 {
            self.min = min;
            self.max = max;
        }
        self.sum += value;
        self.answered += 1;
    }

    /// Pools another subscale's answers into these (the total).
    fn merge(&mut self, other: &Answers) {
        if self.answered == 0 {
            self.min = other.min;
            self.max = other.max;
        }
        self.sum += other.sum;
        self.answered += other.answered;
    }
}

/// One response's score on one subscale (or the total).
pub(super) struct Score {
    pub version: u32,
    pub scale: u32,
    pub unit: Unit,
    pub who: u32,
    pub anonymous: bool,
    pub subject: Option<u32>,
    pub score: f64,
    pub tot: f64,
    pub answered: u32,
    pub n_items: u32,
    pub scale_min: Option<f64>,
    pub scale_max: Option<f64>,
}

/// Σx, Σx² and n of one item over the complete responses of a department
/// in a year, per subscale (and for the total).
#[derive(Default, Clone, Copy)]
pub(super) struct ItemSums {
    pub sx: f64,
    pub sxx: f64,
    pub n: f64,
}

/// (version, unit, scale, item).
pub(super) type ItemKey = (u32, Unit, u32, Option<u32>);
/// (rso, version, scale, item, value as bits, year).
pub(super) type CountKey = (u32, Option<u32>, Option<u32>, Option<u32>, Option<u64>, i32);

/// The pass over one group (one instrument in one cycle), a year at a time.
pub(super) struct Pass {
    /// The instrument.
    pub instrument: String,
    /// Every text but the respondents'.
    pub names: Names,
    /// Respondents (pseudonyms, or the response where anonymous): numbered
    /// apart, as counting distinct people needs only the numbers.
    pub who: Names,
    /// Subjects (supervisors rated).
    pub subjects: Names,
    /// (version, scale) → (items, minimum answered).
    specs: HashMap<(u32, u32), (u32, u32)>,
    in_total: HashSet<(u32, u32)>,
    total: u32,
    // The year being read.
    year: i32,
    responses: HashMap<String, u32>,
    response: Vec<Response>,
    /// The last row's response id and number: a response's rows come
    /// together, so most rows need no lookup.
    last: (String, u32),
    /// (response, scale, item, value) of every answered item.
    rows: Vec<(u32, u32, Option<u32>, f64)>,
    // The results, over the years read so far.
    pub scores: Vec<Score>,
    pub item_sums: HashMap<ItemKey, ItemSums>,
    pub counts: HashMap<CountKey, u64>,
    /// (RSO, export file, year) → the last submission.
    pub files: HashMap<(Option<u32>, Option<u32>, i32), Option<i32>>,
}

impl Pass {
    /// A pass for one instrument: the specs (of every instrument) and the
    /// (version, subscale) pairs of it that count towards its total.
    pub fn new<'a>(
        instrument: &str,
        specs: &[ScaleSpec],
        in_total: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Pass {
        let mut names = Names::default();
        let total = names.id(TOTAL);
        let specs = specs
            .iter()
            .filter(|s| s.instrument == instrument)
            .map(|s| {
                (
                    (names.id(&s.version), names.id(&s.scale_id)),
                    (s.n_items, s.min_answered),
                )
            })
            .collect();
        let in_total = in_total
            .into_iter()
            .map(|(v, s)| (names.id(v), names.id(s)))
            .collect();
        Pass {
            instrument: instrument.to_string(),
            names,
            who: Names::default(),
            subjects: Names::default(),
            specs,
            in_total,
            total,
            year: 0,
            responses: HashMap::default(),
            response: Vec::new(),
            last: (String::new(), u32::MAX),
            rows: Vec::new(),
            scores: Vec::new(),
            item_sums: HashMap::default(),
            counts: HashMap::default(),
            files: HashMap::default(),
        }
    }

    /// Starts reading a year partition.
    pub fn begin_year(&mut self, year: i32) {
        self.year = year;
    }

    /// Reads one item row (self-ratings already left out); `head` gives
    /// the rest of the row when it is the first of its response.
    pub fn add<'a>(&mut self, row: &Row, head: impl FnOnce() -> Head<'a>) {
        let names = &mut self.names;
        let scale = names.opt(row.scale_id);
        let item = names.opt(row.item_id);
        let id = row.response_id.unwrap_or_default();
        let known = if self.last.1 != u32::MAX && self.last.0 == id {
            Some(self.last.1)
        } else {
            self.responses.get(id).copied()
        };
        let response = match known {
            Some(r) => r,
            None => {
                let row = head();
                let version = names.opt(row.version);
                let r = self.response.len() as u32;
                self.responses.insert(id.to_string(), r);
                let unit = Unit {
                    institution: names.opt(row.institution_id),
                    specialty: names.opt(row.specialty),
                    rso: names.opt(row.rso_id),
                    region: names.opt(row.region_id),
                    year: self.year,
                };
                let sha = names.opt(row.source_sha256);
                let last = self.files.entry((unit.rso, sha, self.year)).or_default();
                *last = (*last).max(row.submitted_on);
                self.response.push(Response {
                    version,
                    who: self.who.id(row.respondent_key.unwrap_or(id)),
                    anonymous: row.respondent_key.is_none(),
                    subject: self.subjects.opt(row.subject_key),
                    unit,
                    answers: Vec::new(),
                    complete: Vec::new(),
                    total_complete: false,
                });
                r
            }
        };
        if self.last.1 != response {
            self.last.0.clear();
            self.last.0.push_str(id);
            self.last.1 = response;
        }
        let r = &self.response[response as usize];
        let (rso, version) = (r.unit.rso, r.version);
        if let Some(rso) = rso {
            let key = (
                rso,
                version,
                scale,
                item,
                row.value.map(f64::to_bits),
                self.year,
            );
            *self.counts.entry(key).or_default() += 1;
        }
        if let (Some(value), Some(scale)) = (row.value, scale) {
            let answers = &mut self.response[response as usize].answers;
            let i = match answers.iter().position(|(s, _)| *s == scale) {
                Some(i) => i,
                None => {
                    answers.push((scale, Answers::default()));
                    answers.len() - 1
                }
            };
            answers[i].1.add(value, row.scale_min, row.scale_max);
            self.rows.push((response, scale, item, value));
        }
    }

    /// Scores the year's responses and adds the complete ones' answers to
    /// the item sums.
    pub fn end_year(&mut self) {
        for response in 0..self.response.len() {
            let r = &mut self.response[response];
            let answers = std::mem::take(&mut r.answers);
            let Some(version) = r.version else { continue };
            let response = response as u32;
            let mut total = Answers::default();
            for (scale, a) in &answers {
                let in_total = self.in_total.contains(&(version, *scale));
                if in_total {
                    total.merge(a);
                }
                let complete = self.score(response, *scale, a);
                self.response[response as usize]
                    .complete
                    .push((*scale, complete, in_total));
            }
            if total.answered > 0 {
                let complete = self.score(response, self.total, &total);
                self.response[response as usize].total_complete = complete;
            }
        }
        for &(response, scale, item, value) in &self.rows {
            let r = &self.response[response as usize];
            let Some(version) = r.version else { continue };
            let Some(&(_, complete, in_total)) = r.complete.iter().find(|c| c.0 == scale) else {
                continue;
            };
            let mut add = |scale: u32| {
                let s = self
                    .item_sums
                    .entry((version, r.unit, scale, item))
                    .or_default();
                s.sx += value;
                s.sxx += value * value;
                s.n += 1.0;
            };
            if complete {
                add(scale);
            }
            if in_total && r.total_complete {
                add(self.total);
            }
        }
        self.rows.clear();
        self.responses.clear();
        self.response.clear();
        self.last.1 = u32::MAX;
    }

    /// Adds the score of one response on one scale if enough items are
    /// answered; whether the response is complete on it.
    fn score(&mut self, response: u32, scale: u32, a: &Answers) -> bool {
        let r = &self.response[response as usize];
        let Some(version) = r.version else {
            return false;
        };
        let Some(&(n_items, min_answered)) = self.specs.get(&(version, scale)) else {
            return false;
        };
        if a.answered < min_answered {
            return false;
        }
        self.scores.push(Score {
            version,
            scale,
            unit: r.unit,
            who: r.who,
            anonymous: r.anonymous,
            subject: r.subject,
            score: a.sum / f64::from(a.answered),
            tot: a.sum,
            answered: a.answered,
            n_items,
            scale_min: a.min,
            scale_max: a.max,
        });
        a.answered == n_items
    }

    /// The atoms: (version, scale, unit) of every score, sorted (the few
    /// distinct ones are found first, then sorted).
    pub fn atoms(&self) -> Vec<(u32, u32, Unit)> {
        let distinct: HashSet<(u32, u32, Unit)> = self
            .scores
            .iter()
            .map(|s| (s.version, s.scale, s.unit))
            .collect();
        let mut atoms: Vec<(u32, u32, Unit)> = distinct.into_iter().collect();
        atoms.sort_unstable();
        atoms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(scale: &str, n_items: u32, min_answered: u32) -> ScaleSpec {
        ScaleSpec {
            instrument: "x".into(),
            version: "1".into(),
            scale_id: scale.into(),
            construct: scale.into(),
            n_items,
            min_answered,
            reliability_min: 1,
            privacy_floor: 1,
            in_total: true,
        }
    }

    /// (response, scale, item, value) rows of one fictional year: subscale
    /// `a` has 3 items (score from 2), `b` 2 items (from 1), the total 5
    /// items (from 3).
    const ROWS: [(&str, &str, &str, Option<f64>); 9] = [
        ("r1", "a", "a1", Some(4.0)),
        ("r1", "a", "a2", Some(5.0)),
        ("r1", "a", "a3", None),
        ("r1", "b", "b1", Some(3.0)),
        ("r1", "b", "b2", Some(2.0)),
        ("r2", "a", "a1", Some(1.0)),
        ("r2", "a", "a2", None),
        ("r2", "b", "b1", Some(4.0)),
        ("r2", "b", "b2", None),
    ];

    fn run(order: &[usize]) -> Pass {
        let specs = [spec("a", 3, 2), spec("b", 2, 1), spec(TOTAL, 5, 3)];
        let mut pass = Pass::new("x", &specs, [("1", "a"), ("1", "b")]);
        pass.begin_year(2024);
        for &i in order {
            let (response, scale, item, value) = ROWS[i];
            let row = Row {
                response_id: Some(response),
                scale_id: Some(scale),
                item_id: Some(item),
                value,
                scale_min: Some(1.0),
                scale_max: Some(5.0),
            };
            pass.add(&row, || Head {
                version: Some("1"),
                respondent_key: (response == "r1").then_some("p1"),
                subject_key: None,
                institution_id: Some("ziekenhuis"),
                specialty: Some("chir"),
                rso_id: Some("rso"),
                region_id: Some("regio"),
                submitted_on: Some(if response == "r1" { 19_000 } else { 19_010 }),
                source_sha256: Some("sha"),
            });
        }
        pass.end_year();
        pass
    }

    /// (scale, score, answered, tot, who is anonymous) of every score, sorted.
    fn scores(pass: &Pass) -> Vec<(String, f64, u32, f64, bool)> {
        let mut out: Vec<_> = pass
            .scores
            .iter()
            .map(|s| {
                let scale = pass.names.name(s.scale).to_string();
                (scale, s.score, s.answered, s.tot, s.anonymous)
            })
            .collect();
        out.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
        out
    }

    fn item_sums(pass: &Pass) -> Vec<(String, String, f64, f64, f64)> {
        let mut out: Vec<_> = pass
            .item_sums
            .iter()
            .map(|(k, s)| {
                let scale = pass.names.name(k.2).to_string();
                let item = pass.names.name_of(k.3).unwrap_or_default().to_string();
                (scale, item, s.sx, s.sxx, s.n)
            })
            .collect();
        out.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
        out
    }

    #[test]
    fn scores_follow_the_half_rule_and_the_total_pools_the_subscales() {
        let pass = run(&[0, 1, 2, 3, 4, 5, 6, 7, 8]);
        // By hand: r1 a = (4 + 5) / 2, b = (3 + 2) / 2, total = 14 / 4;
        // r2 a has 1 of the 2 answers it needs (none), b = 4 / 1, total has
        // 2 of 3 (none). r2 is anonymous (no respondent key).
        assert_eq!(
            scores(&pass),
            vec![
                ("a".to_string(), 4.5, 2, 9.0, false),
                ("b".to_string(), 2.5, 2, 5.0, false),
                ("b".to_string(), 4.0, 1, 4.0, true),
                (TOTAL.to_string(), 3.5, 4, 14.0, false),
            ]
        );
        // Alpha's sums take complete responses only: r1 on b (2 of 2).
        assert_eq!(
            item_sums(&pass),
            vec![
                ("b".to_string(), "b1".to_string(), 3.0, 9.0, 1.0),
                ("b".to_string(), "b2".to_string(), 2.0, 4.0, 1.0),
            ]
        );
        // Every row is counted, not-applicable included; 9 rows in all.
        assert_eq!(pass.counts.values().sum::<u64>(), 9);
        let not_applicable: u64 = pass
            .counts
            .iter()
            .filter(|(k, _)| k.4.is_none())
            .map(|(_, n)| n)
            .sum();
        assert_eq!(not_applicable, 3);
        // One export file, last submission the later one.
        assert_eq!(pass.files.len(), 1);
        assert_eq!(pass.files.values().next(), Some(&Some(19_010)));
        // Two respondents: a pseudonym and an anonymous response.
        assert_eq!(pass.who.names.len(), 2);
    }

    #[test]
    fn rows_of_a_response_need_not_come_together() {
        let together = run(&[0, 1, 2, 3, 4, 5, 6, 7, 8]);
        let mixed = run(&[5, 0, 6, 1, 7, 2, 8, 3, 4]);
        assert_eq!(scores(&mixed), scores(&together));
        assert_eq!(item_sums(&mixed), item_sums(&together));
        let counts = |p: &Pass| {
            let mut c: Vec<(String, Option<u64>, u64)> = p
                .counts
                .iter()
                .map(|(k, n)| {
                    (
                        p.names.name_of(k.3).unwrap_or_default().to_string(),
                        k.4,
                        *n,
                    )
                })
                .collect();
            c.sort();
            c
        };
        assert_eq!(counts(&mixed), counts(&together));
        assert_eq!(mixed.files, together.files);
    }
}
