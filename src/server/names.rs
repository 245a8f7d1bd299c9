//! User names compared as people read them, not byte by byte: `Duet`, `DUET` and the
//! full-width `ｄｕｅｔ` all look like the server's own [`SYSTEM_USER`], so none of them may
//! be taken. Server only: the normaliser's tables would weigh on the page.

use crate::protocol::{NameError, SYSTEM_USER, UserName};
use icu_normalizer::ComposingNormalizerBorrowed;

/// `name` as it is compared: NFKC (compatibility forms such as full-width letters, ligatures
/// and superscripts become the plain letters they stand for), then lower case.
pub fn folded(name: &str) -> String {
    ComposingNormalizerBorrowed::new_nfkc()
        .normalize(name)
        .to_lowercase()
}

/// Whether `a` and `b` read as the same name.
pub fn same(a: &str, b: &str) -> bool {
    a == b || folded(a) == folded(b)
}

/// `name` unless it reads as [`SYSTEM_USER`]: [`UserName::parse`] refuses only the exact
/// spelling, since the page cannot carry the normaliser.
pub fn check(name: UserName) -> Result<UserName, NameError> {
    if same(name.as_str(), SYSTEM_USER) {
        return Err(NameError::Reserved);
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> Result<UserName, NameError> {
        UserName::parse(raw).and_then(check)
    }

    #[test]
    fn every_spelling_of_the_system_user_is_reserved() {
        for raw in [
            "duet",
            "Duet",
            "DUET",
            "dUeT",
            "ｄｕｅｔ",
            "ＤＵＥＴ",
            "𝐝𝐮𝐞𝐭",
            "ᵈᵘᵉᵗ",
        ] {
            assert_eq!(parsed(raw), Err(NameError::Reserved), "{raw:?}");
        }
    }

    #[test]
    fn other_names_pass_unchanged() {
        for raw in ["alice", "Duett", "duet2", "du.et", "张三", "Émile", "ﬁona"] {
            assert_eq!(parsed(raw).unwrap().as_str(), raw);
        }
    }

    #[test]
    fn names_compare_folded() {
        assert!(same("Alice", "alice"));
        assert!(same("ａｌｉｃｅ", "ALICE"));
        assert!(same("ﬁona", "fiona"));
        // NFKC composes: e + U+0301 is é.
        assert!(same("e\u{301}mile", "Émile"));
        assert!(!same("alice", "alicia"));
        assert_eq!(folded("ＤＵＥＴ"), "duet");
    }
}
