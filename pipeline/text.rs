//! Small text helpers for the hot paths of ingest: every cell of every
//! export passes through them, so they avoid work (and allocations) where
//! the usual cell needs none, with the same results as the std functions.
//!
//! It also owns the two rules for hostile text: which invisible characters
//! are removed from every value at ingest (`strip_invisible`), and how a
//! value is echoed into a message or a quarantine record (`clip`: bounded,
//! e-mail addresses masked). It does not decide which columns identify
//! people: the source profile does (see `ingest::pseudonym`).

use std::borrow::Cow;

/// `str::trim`, answered at once for the usual cell that starts and ends
/// with a visible ASCII character (Unicode whitespace is either ASCII or
/// starts with a non-ASCII byte, so such a cell has none to trim).
pub fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (None, _) => s,
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// `str::to_lowercase`, borrowed when the text has nothing to lower.
pub fn lowercase(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// Characters removed from every text value at ingest: they are invisible
/// in a spreadsheet and a report, so they can only hide or disguise text.
/// The bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069)
/// reverse how the rest of a line is shown ("Trojan Source"): an open
/// comment could display as something else than it stores. Zero-width
/// characters and marks (U+200B-U+200F, U+2060-U+2064, U+FEFF) make two
/// spellings of an institution that look the same differ. C0 controls
/// (except tab, line feed and carriage return, which are layout), DEL and the
/// C1 controls (what a few undefined Windows-1252 bytes decode to) are never
/// text. U+061C (Arabic letter mark) is a bidi mark too. A consequence:
/// U+200D also joins emoji (a doctor emoji is a person, U+200D and a
/// stethoscope); without it they show as two emoji, which loses nothing.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{feff}')
}

/// The text without the characters of `is_invisible`; borrowed when it has
/// none (the usual cell: only bytes that can start such a character send it
/// to the slow path, so plain ASCII and Dutch accents cost one scan).
pub fn strip_invisible(s: &str) -> Cow<'_, str> {
    let suspect = |b: u8| {
        (b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r')
            || b == 0x7f
            // Lead bytes of U+0080-U+009F, U+061C, U+2000-U+2FFF, U+FEFF.
            || b == 0xc2
            || b == 0xd8
            || b == 0xe2
            || b == 0xef
    };
    if !s.bytes().any(suspect) || !s.chars().any(is_invisible) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().filter(|&c| !is_invisible(c)).collect())
}

/// Shown instead of an e-mail address in free text and in messages.
pub const EMAIL_MASK: &str = "[e-mail verwijderd]";

/// The text with every e-mail address replaced by `EMAIL_MASK`.
pub fn mask_emails(s: &str) -> Cow<'_, str> {
    static EMAIL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"[\w.+-]+@[\w-]+(\.[\w-]+)+").expect("static regex")
    });
    if !s.contains('@') {
        return Cow::Borrowed(s);
    }
    EMAIL.replace_all(s, EMAIL_MASK)
}

/// Contact details in free text, each replaced by a marker that says what
/// was there: e-mail addresses, web addresses, Dutch and international phone
/// numbers (06-12345678, 020 123 4567, +31 6 1234 5678, +44 20 7946 0958),
/// and nine-digit numbers such as a BSN (123456782, 123.456.782). An open
/// answer is published only in a group's report; these details identify
/// people whatever the group.
pub fn mask_contact_details(s: &str) -> Cow<'_, str> {
    mask_contact_details_counted(s).0
}

/// `mask_contact_details`, and how many details it masked (for the count
/// a report gives; the values themselves are not kept).
pub fn mask_contact_details_counted(s: &str) -> (Cow<'_, str>, u32) {
    static PATTERNS: std::sync::LazyLock<[(regex::Regex, &str); 4]> = std::sync::LazyLock::new(
        || {
            let re = |p: &str| regex::Regex::new(p).expect("static regex");
            [
                (
                    re(r"(?i)\b(?:https?://|www\.)[^\s<>()]+"),
                    "[link verwijderd]",
                ),
                // A phone number: +country or 0, then 9 digits (Dutch) or
                // 7-12 (international), spaces, dots and dashes between.
                (
                    re(
                        r"(?:\+\d{1,3}[\s.-]?(?:\(0\)[\s.-]?)?(?:\d[\s.-]?){6,11}\d|\b0(?:[\s.-]?\d){9}\b)",
                    ),
                    "[telefoonnummer verwijderd]",
                ),
                (
                    re(r"\b\d{3}\.\d{3}\.\d{3}\b|\b\d{9}\b"),
                    "[nummer verwijderd]",
                ),
                (re(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), EMAIL_MASK),
            ]
        },
    );
    let mut out = Cow::Borrowed(s);
    let mut count = 0u32;
    // The e-mail pattern last: a web address may hold an '@'.
    for (re, marker) in PATTERNS.iter() {
        let replaced = re.replace_all(&out, |_: &regex::Captures| {
            count += 1;
            *marker
        });
        if let Cow::Owned(o) = replaced {
            out = Cow::Owned(o);
        }
    }
    (out, count)
}

/// How many characters of a value a message or quarantine record shows.
pub const ECHO_CHARS: usize = 200;

/// A value as it may be echoed into a message, a quarantine record or a
/// log: e-mail addresses masked (an address typed into an item or an
/// institution column must not travel further than the export), invisible
/// characters removed (a bidi override in a message would garble the
/// terminal line it is printed on), and at most `max_chars` characters,
/// ending in `... (N characters)` with the full length when cut.
pub fn clip(s: &str, max_chars: usize) -> Cow<'_, str> {
    let masked = mask_emails(s);
    let visible = match strip_invisible(&masked) {
        Cow::Borrowed(_) => masked,
        Cow::Owned(o) => Cow::Owned(o),
    };
    // A value of up to max_chars bytes has at most max_chars characters.
    if visible.len() <= max_chars {
        return visible;
    }
    let total = visible.chars().count();
    if total <= max_chars {
        return visible;
    }
    let cut: String = visible.chars().take(max_chars).collect();
    Cow::Owned(format!("{cut}... ({total} characters)"))
}

/// `clip` to `ECHO_CHARS`, the bound of every echoed value.
pub fn echo(s: &str) -> Cow<'_, str> {
    clip(s, ECHO_CHARS)
}

/// At most `max_items` values, each echoed and quoted, joined by ", ",
/// then "and N more": a message about a file with a million columns stays
/// a line.
pub fn quoted_list<'a>(items: impl IntoIterator<Item = &'a str>, max_items: usize) -> String {
    let mut shown = Vec::new();
    let mut more = 0usize;
    for item in items {
        if shown.len() < max_items {
            shown.push(format!("{:?}", echo(item)));
        } else {
            more += 1;
        }
    }
    let mut out = shown.join(", ");
    if more > 0 {
        out.push_str(&format!(" and {more} more"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_is_str_trim() {
        for s in [
            "",
            " ",
            "4",
            " 4",
            "4 ",
            "\t4\r\n",
            "a b",
            "\u{a0}5\u{a0}",
            "\u{2003}x",
            "é",
            " é ",
            "x\u{3000}",
            "n.v.t.",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn lowercase_is_to_lowercase() {
        for s in [
            "", "abc", "ABC", "Ab C", "ÉCOLE", "école", "n.v.t.", "ΣΑ", "42",
        ] {
            assert_eq!(lowercase(s), s.to_lowercase(), "{s:?}");
        }
        assert!(matches!(lowercase("already lower"), Cow::Borrowed(_)));
    }

    #[test]
    fn invisible_characters_are_removed_and_text_kept() {
        // A bidi override that makes "tekst" display reversed, zero-width
        // spaces inside a name, a NUL and a BOM.
        let hostile = "goed \u{202e}tekst\u{202c} Zieken\u{200b}huis\u{0}A\u{feff}";
        assert_eq!(strip_invisible(hostile), "goed tekst ZiekenhuisA");
        for c in [
            '\u{202a}', '\u{2066}', '\u{2069}', '\u{200f}', '\u{7}', '\u{85}',
        ] {
            assert_eq!(strip_invisible(&format!("a{c}b")), "ab", "{c:?}");
        }
        // Layout, accents, the euro sign and emoji stay, borrowed.
        for s in ["a\tb\nc\r\n", "Zoë €5 – “ok”", "\u{1f44d}", ""] {
            assert!(matches!(strip_invisible(s), Cow::Borrowed(_)), "{s:?}");
            assert_eq!(strip_invisible(s), s);
        }
    }

    #[test]
    fn clip_bounds_and_masks_echoed_values() {
        assert_eq!(clip("kort", 200), "kort");
        assert!(matches!(clip("kort", 200), Cow::Borrowed(_)));
        let long = "é".repeat(1000);
        let c = clip(&long, 200);
        // Second source: the expected text written out by hand.
        assert_eq!(c, format!("{}... (1000 characters)", "é".repeat(200)));
        assert_eq!(
            clip("mail j.jansen@umcl.nl of Piet@X.COM", 200),
            "mail [e-mail verwijderd] of [e-mail verwijderd]"
        );
        assert_eq!(clip("a\u{202e}b", 200), "ab");
        // Exactly at the bound: not cut.
        assert_eq!(clip(&"x".repeat(200), 200), "x".repeat(200));
    }

    #[test]
    fn lists_of_values_are_bounded() {
        let cols: Vec<String> = (0..1_000_000).map(|i| format!("Q{i}")).collect();
        let l = quoted_list(cols.iter().map(String::as_str), 3);
        assert_eq!(l, "\"Q0\", \"Q1\", \"Q2\" and 999997 more");
        assert_eq!(quoted_list(["a", "b"], 3), "\"a\", \"b\"");
    }
}
