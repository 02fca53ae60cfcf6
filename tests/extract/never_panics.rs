//! Property: `extract` returns for any input, whatever the bytes. Run with
//! more cases through `PROPTEST_CASES` (for example 100000).

use palimpsest::extract::extract;
use proptest::prelude::*;
use url::Url;

/// Fragments that steer random input into the parser's corners.
fn htmlish() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "<p>",
        "</p>",
        "<div class=\"content\">",
        "</div>",
        "<script>",
        "</script>",
        "<script type=\"application/ld+json\">{\"@type\":\"Article\",\"author\":{\"@id\":\"x\"},\"@graph\":[[[",
        "<svg>",
        "</svg>",
        "<!--",
        "-->",
        "<br>",
        "<h1>",
        "<table><tr><td>",
        "<a href=\"",
        "\">",
        "Sumber: https://",
        "Via ",
        "&amp;",
        "&#x1F600;",
        "&#0;",
        "<time datetime=\"2025-99-99\">",
        "<meta property=\"article:published_time\" content=\"",
        "<base href=\"::\">",
        "é",
        "日本",
        "<html lang=\"\u{0}\">",
        "<style>",
        "<noscript>",
        "<template>",
        "<",
        ">",
        "\"",
        "'",
        "<article>",
        "<li>",
        "<h2>",
        "<blockquote>",
        "<pre>",
        "\u{200b}",
        "\r\n",
        // Misread UTF-8 and the furniture the byline and date finders
        // look at.
        "â€™",
        "Ã©",
        "Â\u{a0}",
        "\u{e2}\u{80}",
        "ð\u{9f}\u{98}",
        "<div class=\"content-nav-section\">",
        "<nav>",
        "Posted on ",
        "By ",
        "Published: ",
        // Attribute values the pre-pass moves out of the markup, and the
        // aliases it leaves in their place.
        "<p class=\"lede body\" id='main' class=\"x\">",
        "<a h=\"0\" href='https://fuzz.example/q?a=1&amp;b=2'>",
        " c=\"99999999999999999999\" i=\"1\"",
    ]);
    prop::collection::vec(
        prop_oneof![atoms.prop_map(str::to_string), ".{0,12}"],
        0..60,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn extract_never_panics_on_strings(s in ".*") {
        let url = Url::parse("https://fuzz.example/a/b").expect("url");
        let _ = extract(&s, &url, None);
    }

    #[test]
    fn extract_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let (text, _) = palimpsest::decode::decode_html(&bytes, None);
        let url = Url::parse("https://fuzz.example/").expect("url");
        let _ = extract(&text, &url, None);
    }

    #[test]
    fn extract_never_panics_on_html_like_input(s in htmlish()) {
        let url = Url::parse("https://fuzz.example/2025/01/02/x").expect("url");
        let ex = extract(&s, &url, None);
        // Body text never carries raw control characters.
        prop_assert!(!ex.article.text.chars().any(|c| c.is_control() && c != '\n'));
    }
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    // Far past what recursion survives on a test thread's stack; the
    // nesting cap also keeps the (quadratic) tree builder fast.
    let html = format!(
        "{}text{}",
        "<div>".repeat(200_000),
        "</div>".repeat(200_000)
    );
    let url = Url::parse("https://deep.example/").expect("url");
    let start = std::time::Instant::now();
    let _ = extract(&html, &url, None);
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    // Deep nesting of elements that are not counted still parses.
    let spans = format!("{}text{}", "<b>".repeat(5_000), "</b>".repeat(5_000));
    let _ = extract(&spans, &url, None);
}

#[test]
fn pages_built_against_the_lead_witness_and_card_checks_stay_linear() {
    // The description's words in forty thousand spans before the article
    // (each one a lead candidate), a JSON-LD body of a few hundred KiB
    // against thousands of paragraphs, and thousands of card-like siblings.
    let desc = "Radwegenetzes Erweiterung beschlossen, die Stadt baut zwanzig Kilometer neue Wege";
    let spans = "<span>Radwegenetzes Erweiterung</span> ".repeat(40_000);
    let paragraph =
        "Die Stadt baut neue Radwege in allen Vierteln, sagte die Sprecherin am Montag.";
    let body: String = (0..8_000)
        .map(|k| format!("<p>{paragraph} {k}</p>"))
        .collect();
    let ld_body = format!("{paragraph} ").repeat(8_000);
    let cards = r#"<div class="c"><h3><a href="/x">Ein anderer Bericht über die Stadt</a></h3><p>Kurz.</p></div>"#
        .repeat(10_000);
    let ld = serde_json::json!({"@type": "NewsArticle", "articleBody": ld_body});
    let html = format!(
        r#"<html><head><meta name="description" content="{desc}">
        <script type="application/ld+json">{ld}</script></head><body>
        <div class="top">{spans}</div><article>{body}{cards}</article></body></html>"#
    );
    let url = Url::parse("https://hostile.example/").expect("url");
    let start = std::time::Instant::now();
    let ex = extract(&html, &url, None);
    assert!(ex.article.text.contains("Sprecherin am Montag. 7999"));
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}
