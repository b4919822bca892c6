//! Small text helpers for the hot paths of ingest: every cell of every
//! export passes through them, so they avoid work (and allocations) where
//! the usual cell needs none, with the same results as the std functions.

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
}
