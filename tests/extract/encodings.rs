//! Legacy encodings: bytes go through `decode_html` (as the crawler and
//! `palimpsest extract` do) before extraction.

use palimpsest::decode::decode_html;

use super::run;

#[test]
fn windows_1252_page() {
    let html = "<html><head><meta charset=\"windows-1252\"><title>Caf\u{e9} soci\u{e9}t\u{e9}</title></head><body><article>\
        <h1>Caf\u{e9} soci\u{e9}t\u{e9}</h1><p>\u{201c}Cr\u{e8}me br\u{fb}l\u{e9}e\u{201d} costs \u{20ac}5 at the caf\u{e9} na\u{ef}vely named after the soci\u{e9}t\u{e9} \u{2014} a long sentence.</p>\
        </article></body></html>";
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(html);
    assert!(!unmappable);
    assert!(
        bytes.contains(&0xe9) && bytes.contains(&0x80),
        "really single-byte"
    );
    let (text, enc) = decode_html(&bytes, None);
    assert_eq!(enc, "windows-1252");
    let a = run(&text, "https://cafe.example/fr/article", None).article;
    assert_eq!(a.title.as_deref(), Some("Café société"));
    assert_eq!(
        a.text,
        "“Crème brûlée” costs €5 at the café naïvely named after the société — a long sentence."
    );
}

#[test]
fn shift_jis_page() {
    let html = "<html lang=\"ja\"><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\">\
        <title>東京で桜が満開 | ニュース</title></head><body><article><h1>東京で桜が満開</h1>\
        <p>気象庁は二十五日、東京都心で桜が満開になったと発表した。平年より五日早く、昨年より三日早い満開となった。</p>\
        <p>上野公園では多くの花見客が訪れ、週末にかけてさらに人出が増える見込みだ。</p>\
        <p>出典：https://news.example.jp/articles/sakura-2025</p></article></body></html>";
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(html);
    assert!(!unmappable);
    let (text, enc) = decode_html(&bytes, None);
    assert_eq!(enc, "Shift_JIS");
    let a = run(&text, "https://sakura.example.jp/a/1", None).article;
    assert_eq!(a.title.as_deref(), Some("東京で桜が満開"));
    assert_eq!(a.language.as_deref(), Some("ja"));
    assert!(a.text.starts_with("気象庁は二十五日"));
    assert!(a.text.contains("\n\n上野公園では"));
    // "出典：" is an attribution line in Japanese.
    assert!(!a.text.contains("出典"));
    assert_eq!(
        a.source_links,
        vec!["https://news.example.jp/articles/sakura-2025"]
    );
}

#[test]
fn utf8_misread_by_the_publisher_is_repaired() {
    // The publisher's own system read its UTF-8 as Windows-1252 and served
    // the result as UTF-8: the bytes are valid, the text is mojibake.
    let clean = "<html><head><meta charset=\"utf-8\"></head><body><article>\
        <h1>A DIY Investor’s Guide to Retirement</h1>\
        <p>“Start early” is the advice every planner gives, and it’s good advice — even at €50 a month.</p>\
        <p>The café owner’s plan is a second example, with numbers for each decade of saving.</p>\
        </article></body></html>";
    let (misread, _, _) = encoding_rs::WINDOWS_1252.decode(clean.as_bytes());
    assert!(misread.contains("â€™"), "really mojibake");
    let (text, _) = decode_html(misread.as_bytes(), None);
    let a = run(&text, "https://money.example/guides/retirement", None).article;
    assert_eq!(
        a.title.as_deref(),
        Some("A DIY Investor’s Guide to Retirement")
    );
    assert!(
        a.text
            .starts_with("“Start early” is the advice every planner gives, and it’s good advice — even at €50 a month."),
        "{}",
        a.text
    );
    assert!(a.text.contains("The café owner’s plan"));
}
