//! Bytes to text: every stored or extracted text is valid UTF-8.
//!
//! Order of evidence (as browsers do): byte-order mark, the HTTP
//! `Content-Type` charset, a `<meta charset>` in the first 1024 bytes; then
//! UTF-8 if the first 64 KiB are valid UTF-8, else a statistical guess
//! (`chardetng`). The header is believed as it is (`charset=utf-16` is
//! UTF-16); a `<meta>` is read in ASCII bytes, so one naming UTF-16 is
//! wrong about itself and means UTF-8 (WHATWG's prescan rule).

use encoding_rs::Encoding;

/// Decodes an HTML (or XML) body to UTF-8, returning the text and the name of
/// the encoding used.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> (String, &'static str) {
    let encoding = sniff_encoding(bytes, content_type);
    let (text, used, _had_errors) = encoding.decode(bytes);
    (text.into_owned(), used.name())
}

fn sniff_encoding(bytes: &[u8], content_type: Option<&str>) -> &'static Encoding {
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        return enc;
    }
    if let Some(enc) = content_type.and_then(charset_param).and_then(label) {
        return enc;
    }
    let head = &bytes[..bytes.len().min(1024)];
    if let Some(enc) = meta_charset(head).and_then(|l| meta_label(&l)) {
        return enc;
    }
    let sample = &bytes[..bytes.len().min(GUESS_SAMPLE)];
    let whole = sample.len() == bytes.len();
    // Valid UTF-8 is what the guess would say anyway (and pure ASCII reads
    // the same either way): most undeclared pages need no statistics.
    if is_utf8(sample, whole) {
        return encoding_rs::UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(sample, whole);
    detector.guess(None, chardetng::Utf8Detection::Allow)
}

/// Bytes of an undeclared page the encoding is guessed from.
const GUESS_SAMPLE: usize = 64 * 1024;

/// Whether `sample` is UTF-8; a sample cut from a longer body may end
/// inside a character.
fn is_utf8(sample: &[u8], whole: bool) -> bool {
    match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(e) => !whole && e.error_len().is_none(),
    }
}

/// `label` per the WHATWG Encoding standard, as an HTTP header gives it.
fn label(l: &str) -> Option<&'static Encoding> {
    Encoding::for_label(l.trim().as_bytes())
}

/// `label` as a `<meta>` gives it: a page that declares UTF-16 in
/// ASCII-compatible bytes is lying, so that is read as UTF-8, and
/// `x-user-defined` as windows-1252 (the prescan's rules).
fn meta_label(l: &str) -> Option<&'static Encoding> {
    label(l).map(|e| {
        if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE {
            encoding_rs::UTF_8
        } else if e == encoding_rs::X_USER_DEFINED {
            encoding_rs::WINDOWS_1252
        } else {
            e
        }
    })
}

fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches(['"', '\'']))
    })
}

/// Finds `<meta charset=X>` or `<meta http-equiv=content-type content="...;charset=X">`
/// in the first bytes of a document.
fn meta_charset(head: &[u8]) -> Option<String> {
    let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(pos) = rest.find("<meta") {
        rest = &rest[pos + 5..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        if let Some(i) = tag.find("charset") {
            let after = tag[i + 7..].trim_start();
            if let Some(value) = after.strip_prefix('=') {
                let value = value.trim_start().trim_start_matches(['"', '\'']);
                let end = value
                    .find(|c: char| {
                        c == '"' || c == '\'' || c == ';' || c == '/' || c.is_whitespace()
                    })
                    .unwrap_or(value.len());
                if end > 0 {
                    return Some(value[..end].to_string());
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_utf8_page_cut_inside_a_character_is_still_utf8() {
        let mut page = "a".repeat(GUESS_SAMPLE - 1).into_bytes();
        page.extend_from_slice("é, ünd ß".as_bytes());
        assert!(!is_utf8(&page[..GUESS_SAMPLE], true), "cut inside é");
        assert_eq!(decode_html(&page, None).1, "UTF-8");
        // Invalid bytes are guessed at, as before.
        let latin1 = b"<p>caf\xe9 cr\xe8me br\xfbl\xe9e, na\xefve soci\xe9t\xe9</p>";
        assert_eq!(decode_html(latin1, None).1, "windows-1252");
    }

    #[test]
    fn header_then_meta_then_guess() {
        let latin1 = b"<html><head><meta charset=\"windows-1252\"></head><p>caf\xe9</p>";
        assert!(decode_html(latin1, None).0.contains("café"));
        assert_eq!(
            decode_html(latin1, Some("text/html; charset=utf-8")).1,
            "UTF-8"
        );
        let sjis = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\"><p>\x93\xfa\x96\x7b</p>";
        assert!(decode_html(sjis, None).0.contains("日本"));
        let undeclared = "<p>Grüße aus Köln — ein Bericht</p>".as_bytes();
        assert_eq!(
            decode_html(undeclared, None),
            ("<p>Grüße aus Köln — ein Bericht</p>".into(), "UTF-8")
        );
        let bom = b"\xef\xbb\xbfhello";
        assert_eq!(
            decode_html(bom, Some("text/html; charset=latin1")).0,
            "hello"
        );
    }
}
