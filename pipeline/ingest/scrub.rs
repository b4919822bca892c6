//! Open answers scrubbed of what identifies people, before they are stored.
//!
//! An export names people in its respondent, rated-supervisor and
//! identifier columns; ingest sees those names before it pseudonymises
//! them. An open answer may name any of them, not only the people of its
//! own row ("Supervisor Jansen was vaak afwezig", where Jansen is rated in
//! another row). So every name of the whole export is collected first
//! (`ExportNames`, from every data row, in both the in-memory and the
//! streamed reading), and each answer has those names, and each of their
//! parts (a surname alone), replaced by `[naam verwijderd]`, after its
//! contact details (`text::mask_contact_details`). How many of each were
//! masked is kept with the answer (`Scrubbed`), never what.
//!
//! It cannot find names the export does not hold (a colleague, a nurse),
//! and it masks a common word that is also someone's name part in the
//! export ("de Groot" masks "groot"): the README says both.

use std::collections::HashSet;

use crate::text::{lowercase, mask_contact_details_counted, trim};

/// Shown instead of a name.
pub const NAME_MASK: &str = "[naam verwijderd]";

/// What `text::mask_contact_details` and this module write: their words
/// ("naam", "link") are never taken for names.
const MARKERS: [&str; 5] = [
    NAME_MASK,
    crate::text::EMAIL_MASK,
    "[link verwijderd]",
    "[telefoonnummer verwijderd]",
    "[nummer verwijderd]",
];

/// Titles and particles: not identifying on their own; between two name
/// parts they are masked with them ("Jan de Vries" is one marker), as are
/// initials (one letter).
const PARTICLES: &[&str] = &[
    "dr", "drs", "prof", "mr", "mw", "mevr", "dhr", "ir", "ing", "van", "der", "den", "de", "het",
    "ter", "ten", "te", "la", "le", "du", "von", "op",
];

/// An open answer as it is stored, and how many details were masked in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scrubbed {
    /// The text with names and contact details replaced by markers.
    pub text: String,
    /// Names (or runs of name parts) masked.
    pub names: u32,
    /// Contact details masked: phone numbers, e-mail and web addresses,
    /// BSN-like numbers.
    pub details: u32,
}

/// The name parts of everyone an export identifies, lower case.
#[derive(Debug, Clone, Default)]
pub struct ExportNames {
    words: HashSet<String>,
}

/// A word's kind for masking.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Name,
    /// A title, particle or initial: joins two name parts.
    Joiner,
    Other,
}

impl ExportNames {
    /// Adds the parts of one identifier value (a name, an e-mail address,
    /// an employee number). A part counts when it has at least 3 letters
    /// and is no title or particle, or is a number of at least 5 digits (an
    /// employee number; shorter numbers are counts and grades in answers).
    /// Of an e-mail address only the part before the `@` is used: its
    /// domain is the hospital's, which answers name freely.
    pub fn add(&mut self, identifier: &str) {
        let id = trim(identifier);
        let id = id.split_once('@').map_or(id, |(local, _)| local);
        for part in id.split(|c: char| !c.is_alphanumeric()) {
            let digits = part.chars().all(|c| c.is_ascii_digit());
            let long_enough = if digits {
                part.len() >= 5
            } else {
                part.chars().count() >= 3
            };
            if !long_enough {
                continue;
            }
            let lower = lowercase(part);
            if !PARTICLES.contains(&lower.as_ref()) {
                self.words.insert(lower.into_owned());
            }
        }
    }

    /// How many name parts are known.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether no name part is known.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The answer with its contact details and then every known name part
    /// masked, with the counts.
    pub fn scrub(&self, text: &str) -> Scrubbed {
        let (masked, details) = mask_contact_details_counted(text);
        let (text, names) = self.mask_names(&masked);
        Scrubbed {
            text,
            names,
            details,
        }
    }

    fn kind(&self, word: &str) -> Kind {
        let lower = lowercase(word);
        if self.words.contains(lower.as_ref()) {
            Kind::Name
        } else if PARTICLES.contains(&lower.as_ref())
            || (word.chars().count() == 1 && word.chars().all(char::is_alphabetic))
        {
            Kind::Joiner
        } else {
            Kind::Other
        }
    }

    /// Replaces each run of name parts (joined by titles, particles,
    /// initials, spaces, dots, hyphens) by one `NAME_MASK`; returns the
    /// text and the number of runs.
    fn mask_names(&self, text: &str) -> (String, u32) {
        if self.words.is_empty() {
            return (text.to_string(), 0);
        }
        // The words of the text (start, end, kind); a marker is one word
        // of kind Other, so nothing joins across it.
        let mut words: Vec<(usize, usize, Kind)> = Vec::new();
        let mut i = 0;
        while i < text.len() {
            let rest = &text[i..];
            if let Some(m) = MARKERS
                .iter()
                .find(|m| rest.as_bytes()[0] == b'[' && rest.starts_with(**m))
            {
                words.push((i, i + m.len(), Kind::Other));
                i += m.len();
                continue;
            }
            let c = rest.chars().next().expect("inside the text");
            if c.is_alphanumeric() {
                let len: usize = rest
                    .char_indices()
                    .find(|(_, c)| !c.is_alphanumeric())
                    .map_or(rest.len(), |(k, _)| k);
                words.push((i, i + len, self.kind(&rest[..len])));
                i += len;
            } else {
                i += c.len_utf8();
            }
        }
        if !words.iter().any(|w| w.2 == Kind::Name) {
            return (text.to_string(), 0);
        }
        let joins = |a: usize, b: usize| {
            text[a..b]
                .chars()
                .all(|c| c.is_whitespace() || matches!(c, '.' | '-' | '\''))
        };
        let mut out = String::with_capacity(text.len());
        let mut count = 0;
        let mut copied = 0;
        let mut k = 0;
        while k < words.len() {
            if words[k].2 != Kind::Name {
                k += 1;
                continue;
            }
            // The run from k to the last name part reachable over joiners.
            let mut last = k;
            let mut j = k;
            while j + 1 < words.len()
                && words[j + 1].2 != Kind::Other
                && joins(words[j].1, words[j + 1].0)
            {
                j += 1;
                if words[j].2 == Kind::Name {
                    last = j;
                }
            }
            out.push_str(&text[copied..words[k].0]);
            out.push_str(NAME_MASK);
            copied = words[last].1;
            count += 1;
            k = last + 1;
        }
        out.push_str(&text[copied..]);
        (out, count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(ids: &[&str]) -> ExportNames {
        let mut n = ExportNames::default();
        for id in ids {
            n.add(id);
        }
        n
    }

    #[test]
    fn a_name_from_another_row_and_a_phone_number_are_masked() {
        // Jansen is rated in another row of the export, not in this one.
        let n = names(&["Dr. P. Jansen", "Anna Bakker", "a.bakker@umcl.example.nl"]);
        let s = n.scrub("Supervisor Jansen (06-12345678) was vaak afwezig");
        assert_eq!(
            s.text,
            "Supervisor [naam verwijderd] ([telefoonnummer verwijderd]) was vaak afwezig"
        );
        assert_eq!((s.names, s.details), (1, 1));
        // A whole name with title, initial and particle is one marker;
        // the title before it stays (it identifies nobody).
        let n = names(&["Jan de Vries"]);
        let s = n
            .scrub("Dr. Jan de Vries (jan.devries@ziekenhuis.nl) gaf goede feedback; Vries is top");
        assert_eq!(
            s.text,
            "Dr. [naam verwijderd] ([e-mail verwijderd]) gaf goede feedback; [naam verwijderd] is top"
        );
        assert_eq!((s.names, s.details), (2, 1));
        // Case and accents: "JANSEN" and "Zoë" are found, a longer word
        // that contains a name is not ("Jansens" is not "Jansen").
        let n = names(&["Zoë Jansen"]);
        let s = n.scrub("JANSEN en zoë; Jansens auto");
        assert_eq!(
            s.text,
            "[naam verwijderd] en [naam verwijderd]; Jansens auto"
        );
        assert_eq!(s.names, 2);
    }

    #[test]
    fn markers_particles_and_short_numbers_are_not_names() {
        // Someone called "Link" or "Naam" does not break the markers; an
        // employee number of 5+ digits is a name part, a 3-digit one (like
        // "12 diensten") is not.
        let n = names(&["Link Naam", "de Vries", "123", "4711234"]);
        assert!(n.words.contains("vries") && !n.words.contains("de"));
        assert!(n.words.contains("4711234") && !n.words.contains("123"));
        let s = n.scrub("Zie www.x.nl en mail a@b.nl; 123 diensten, nummer 4711234; de link");
        assert_eq!(
            s.text,
            "Zie [link verwijderd] en mail [e-mail verwijderd]; 123 diensten, nummer [naam verwijderd]; de [naam verwijderd]"
        );
        assert_eq!((s.names, s.details), (2, 2));
        // Two names joined by "en" are two markers; nothing to mask leaves
        // the text as it is.
        let n = names(&["Piet Jansen", "Kees Visser"]);
        let s = n.scrub("Jansen en Visser");
        assert_eq!(s.text, "[naam verwijderd] en [naam verwijderd]");
        let plain = "In 2024 een 8 gegeven, op 01-03-2024 besproken; 12 diensten.";
        assert_eq!(n.scrub(plain).text, plain);
        assert_eq!(ExportNames::default().scrub(plain).names, 0);
    }

    #[test]
    fn contact_details_are_counted_and_masked_without_names() {
        let s = ExportNames::default().scrub(
            "Bel +31 6 1234 5678 of 020 123 4567, zie www.voorbeeld.nl/p?id=3 of https://x.nl; BSN 123456782 en 123.456.782; mail a.b@c.nl",
        );
        for leaked in [
            "1234",
            "4567",
            "voorbeeld",
            "x.nl",
            "123456782",
            "456",
            "a.b@",
        ] {
            assert!(!s.text.contains(leaked), "{leaked} in {}", s.text);
        }
        // Second source: the details in the text counted by hand (2 phone
        // numbers, 2 links, 2 BSN-like numbers, 1 address).
        assert_eq!(s.details, 7);
        assert_eq!(s.names, 0);
    }
}
