//! Labels, names and numbers in the report's language: the translation
//! table, the names of units, instruments and subscales, number and
//! p-value formatting, Markdown escaping.

use std::collections::BTreeMap;

use super::template_text;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::score::TOTAL;
use crate::table::Level;

/// Labels in one language.
pub type Labels = BTreeMap<String, String>;

/// The labels of a language, from the translation table.
pub fn labels(config: &Config, lang: &str) -> Result<Labels> {
    let text = template_text(config, "i18n.toml")?;
    let mut all: BTreeMap<String, Labels> = toml::from_str(&text).map_err(|e| Error::Config {
        file: "i18n.toml".into(),
        message: e.to_string(),
    })?;
    all.remove(lang).ok_or_else(|| Error::Config {
        file: "i18n.toml".into(),
        message: format!("no [{lang}] table of labels"),
    })
}

/// The label of `key`, or `fallback` (a word from the register that has no
/// translation, shown as written).
pub(super) fn label_or(t: &Labels, key: &str, fallback: &str) -> String {
    t.get(key).cloned().unwrap_or_else(|| fallback.to_string())
}

/// Fills `{name}` placeholders.
pub fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut s = template.to_string();
    for (k, v) in values {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// A number as readers of the language expect it (decimal comma in Dutch).
pub fn num(v: f64, decimals: usize, lang: &str) -> String {
    let s = format!("{v:.decimals$}");
    if lang == "nl" {
        s.replace('.', ",")
    } else {
        s
    }
}

/// "p = 0,003", or "p < 0,001" for very small p.
pub fn p_text(p: f64, lang: &str) -> String {
    if p < 0.001 {
        format!("p < {}", num(0.001, 3, lang))
    } else {
        format!("p = {}", num(p, 3, lang))
    }
}

pub(super) fn pct(v: f64, lang: &str) -> String {
    format!("{}%", num(v * 100.0, 0, lang))
}

/// Names for ids, in the report's language.
pub(super) struct Names<'a> {
    pub(super) config: &'a Config,
    pub(super) lang: &'a str,
    pub(super) t: &'a Labels,
}

impl Names<'_> {
    pub(super) fn institution(&self, id: &str) -> String {
        self.config
            .registry
            .institutions
            .get(id)
            .map(|i| i.name.clone())
            .unwrap_or_else(|| id.to_string())
    }
    pub(super) fn specialty(&self, code: &str) -> String {
        self.config
            .registry
            .specialties
            .get(code)
            .map(|s| {
                if self.lang == "en" {
                    s.name_en.clone()
                } else {
                    s.name.clone()
                }
            })
            .unwrap_or_else(|| code.to_string())
    }
    pub(super) fn rso(&self, id: &str) -> String {
        self.config
            .registry
            .rsos
            .get(id)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| id.to_string())
    }
    pub(super) fn region(&self, id: &str) -> String {
        self.config
            .registry
            .regions
            .get(id)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| id.to_string())
    }
    pub(super) fn unit(&self, level: Level, id: &str) -> String {
        match level {
            Level::Department => match crate::domain::DepartmentId::parse(id) {
                Some(d) => format!(
                    "{} – {}",
                    self.institution(d.institution),
                    self.specialty(d.specialty)
                ),
                None => id.to_string(),
            },
            Level::Institution => self.institution(id),
            Level::Rso => self.rso(id),
            Level::Region => self.region(id),
        }
    }
    /// The instrument's display name from its definition (any version).
    pub(super) fn instrument(&self, id: &str) -> String {
        self.config
            .catalogue
            .iter()
            .find(|i| i.id == id)
            .map_or(id, |i| i.display_name(self.lang))
            .to_string()
    }
    pub(super) fn scale(&self, instrument: &str, version: &str, scale: &str) -> String {
        if scale == TOTAL {
            return self.t["total"].clone();
        }
        self.config
            .catalogue
            .get(instrument, version)
            .and_then(|i| i.subscale(scale))
            .map(|s| {
                if self.lang == "en" {
                    s.en.clone()
                } else {
                    s.nl.clone()
                }
            })
            .unwrap_or_else(|| scale.to_string())
    }
}

impl Names<'_> {
    /// An item's short name: its `label` from the instrument file, or,
    /// where the file gives none (the licensed forms whose wording is not
    /// shipped), its subscale and its place there ("Werken in een team,
    /// item 2"). `version` empty: the first version that has the item. The
    /// item code is for analysts (the workbook); a report names the item.
    pub(super) fn item(&self, instrument: &str, version: &str, item_id: &str) -> String {
        let found = self
            .config
            .catalogue
            .iter()
            .filter(|d| d.id == instrument && (version.is_empty() || d.version == version))
            .find_map(|d| Some((d, d.item(item_id)?)));
        let Some((def, item)) = found else {
            return item_id.to_string();
        };
        match &item.label {
            Some(l) if self.lang == "en" => l.en.clone(),
            Some(l) => l.nl.clone(),
            None => fill(
                &self.t["item_label"],
                &[
                    ("scale", self.scale(&def.id, &def.version, &item.subscale)),
                    ("n", def.item_position(item).to_string()),
                ],
            ),
        }
    }
}

/// A threshold as written in the config: no trailing ",0".
pub(super) fn threshold(v: f64, lang: &str) -> String {
    if v.fract() == 0.0 {
        num(v, 0, lang)
    } else {
        num(v, 1, lang)
    }
}

/// Escapes text for Typst markup (the PDF templates): every ASCII
/// punctuation mark that could start markup, a comment, a list or a
/// function call is backslash-escaped, and line breaks become spaces, so no
/// data can become markup.
pub fn typst_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for ch in s.chars() {
        match ch {
            '\\' | '#' | '*' | '_' | '`' | '$' | '<' | '>' | '@' | '[' | ']' | '~' | '=' | '-'
            | '+' | '/' | '.' | '{' | '}' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A Typst string literal holding `s` (an SVG chart handed to `image`).
pub fn typst_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Escapes text for Markdown: HTML specials become entities and Markdown
/// specials are backslash-escaped, so no data can become markup.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
