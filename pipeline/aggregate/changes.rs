//! Changes between periods: per unit and subscale, the change since the
//! previous period of the same kind that has data, matched across versions
//! by the subscale's construct. Plain Rust over the protected cells.

use std::collections::{BTreeMap, HashMap};

use crate::instrument::Catalogue;
use crate::score::{self, Summary};
use crate::table::{Cell, Change, Level};

/// A series of cells that changes compare: one unit, instrument and
/// construct, years or cycles.
pub(crate) type SeriesKey = (Level, String, String, String, bool);

pub(crate) fn series_key(c: &Cell, catalogue: &Catalogue) -> SeriesKey {
    (
        c.level,
        c.unit_id.clone(),
        c.instrument.clone(),
        catalogue
            .construct(&c.instrument, &c.instrument_version, &c.scale_id)
            .to_string(),
        c.is_cycle(),
    )
}

/// Changes between consecutive periods of the same kind that have data, per
/// unit and subscale, linked across versions by construct; only published
/// numbers are used (a change involving a suppressed cell has none).
/// Computed group by group, in time order: the chain remembers the last
/// cell of every series, so a group's first period is compared with the
/// latest earlier period that has data, as if all cells were at hand.
#[derive(Debug, Default)]
pub struct ChangeChain {
    last: HashMap<SeriesKey, Cell>,
}

impl ChangeChain {
    /// Takes the last cells of series (`Previous::series_ends`) as if their
    /// groups had gone through the chain.
    pub fn seed(&mut self, ends: Vec<Cell>, catalogue: &Catalogue) {
        for c in ends {
            self.last.insert(series_key(&c, catalogue), c);
        }
    }

    /// The changes into the periods of `cells` (one group, or any set of
    /// cells later than every one seen before).
    pub fn next(&mut self, cells: &[Cell], catalogue: &Catalogue) -> Vec<Change> {
        let mut series: BTreeMap<SeriesKey, Vec<&Cell>> = BTreeMap::new();
        for c in cells {
            series.entry(series_key(c, catalogue)).or_default().push(c);
        }
        let mut out = Vec::new();
        let mut lasts = Vec::with_capacity(series.len());
        for (key, mut cells) in series {
            cells.sort_by(|a, b| {
                a.period
                    .cmp(&b.period)
                    .then(a.instrument_version.cmp(&b.instrument_version))
            });
            if let Some(prev) = self.last.get(&key) {
                cells.insert(0, prev);
            }
            out.extend(series_changes(&key.3, &cells));
            if let Some(last) = cells.last() {
                lasts.push((key, (*last).clone()));
            }
        }
        self.last.extend(lasts);
        out
    }
}

/// The changes along one series, sorted by period and version.
pub(crate) fn series_changes(cons: &str, cells: &[&Cell]) -> Vec<Change> {
    let mut out = Vec::new();
    for w in cells.windows(2) {
        let (prev, cur) = (w[0], w[1]);
        if prev.period == cur.period {
            continue;
        }
        let summary = |c: &Cell| -> Option<Summary> {
            let range = c.scale_max - c.scale_min;
            Some(Summary {
                mean: score::pomp(c.mean?, c.scale_min, c.scale_max),
                sd: c.sd? / range * 100.0,
                n: c.n_responses,
            })
        };
        let suppressed = prev.suppressed || cur.suppressed;
        let version_changed = prev.instrument_version != cur.instrument_version;
        let (a, b) = if suppressed {
            (None, None)
        } else {
            (summary(prev), summary(cur))
        };
        let (p_value, g, diff_pomp) = match (a, b) {
            (Some(a), Some(b)) => (
                score::welch(a, b).map(|x| x.2),
                score::hedges_g(a, b),
                Some(b.mean - a.mean),
            ),
            _ => (None, None, None),
        };
        let diff = match (suppressed, version_changed, prev.mean, cur.mean) {
            (false, false, Some(p), Some(c)) => Some(c - p),
            _ => None,
        };
        out.push(Change {
            level: cur.level,
            unit_id: cur.unit_id.clone(),
            institution_id: cur.institution_id.clone(),
            specialty: cur.specialty.clone(),
            rso_id: cur.rso_id.clone(),
            region_id: cur.region_id.clone(),
            instrument: cur.instrument.clone(),
            scale_id: cur.scale_id.clone(),
            construct: cons.to_string(),
            period: cur.period.clone(),
            previous_period: prev.period.clone(),
            instrument_version: cur.instrument_version.clone(),
            previous_version: prev.instrument_version.clone(),
            version_changed,
            diff,
            diff_pomp,
            p_value,
            hedges_g: g,
            suppressed,
            reliable: prev.reliable && cur.reliable,
        });
    }
    out
}
