//! The filters the index and the exports share, with one rule each.

/// Whether `host` is `wanted` or one of its subdomains, in any letter
/// case (`example.test` covers `News.Example.test`, not `badexample.test`).
/// An empty `wanted` covers nothing.
pub fn host_within(host: &str, wanted: &str) -> bool {
    let (host, wanted) = (host.as_bytes(), wanted.as_bytes());
    let Some(sub) = host.len().checked_sub(wanted.len()) else {
        return false;
    };
    !wanted.is_empty()
        && host[sub..].eq_ignore_ascii_case(wanted)
        && (sub == 0 || host[sub - 1] == b'.')
}

/// Whether the language tag `language` is `wanted` or a narrower tag of it,
/// in any letter case (`en` covers `en-GB` and `EN`, not `eng`; `en-gb`
/// covers `en-GB`, not `en`). An empty `wanted` covers nothing.
pub fn language_within(language: &str, wanted: &str) -> bool {
    let (language, wanted) = (language.as_bytes(), wanted.as_bytes());
    language.len() >= wanted.len()
        && !wanted.is_empty()
        && language[..wanted.len()].eq_ignore_ascii_case(wanted)
        && language.get(wanted.len()).is_none_or(|c| *c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_covers_itself_and_its_subdomains_only() {
        assert!(host_within("example.test", "example.test"));
        assert!(host_within("news.example.test", "example.test"));
        assert!(!host_within("badexample.test", "example.test"));
        assert!(!host_within("example.test", "news.example.test"));
        assert!(!host_within("example.test", ""));
    }

    #[test]
    fn hosts_match_in_any_letter_case() {
        assert!(host_within("news.example.test", "EXAMPLE.Test"));
        assert!(host_within("News.Example.TEST", "example.test"));
    }

    #[test]
    fn a_language_covers_its_regional_tags_only() {
        assert!(language_within("en", "en"));
        assert!(language_within("en-GB", "en"));
        assert!(!language_within("eng", "en"));
        assert!(!language_within("en", "en-GB"));
        assert!(!language_within("en", ""));
    }

    #[test]
    fn languages_match_in_any_letter_case() {
        assert!(language_within("en-GB", "EN"));
        assert!(language_within("EN-gb", "en-GB"));
        assert!(language_within("id", "ID"));
    }
}
