//! Pages that exercise one layer each: structured data only, no metadata
//! at all, a section front, a site profile, broken markup.

use palimpsest::article::PageKind;
use palimpsest::extract::{LinkKind, Profile, ProfileSpec};

use super::{fixture, run};

#[test]
fn a_page_with_only_json_ld() {
    let a = run(
        &fixture("jsonld-only.html"),
        "https://river-gazette.example/2025/03/14/flood",
        None,
    )
    .article;
    assert_eq!(
        a.title.as_deref(),
        Some("Flood barriers hold as the river peaks at 7.4 metres")
    );
    // `@id` references resolve through the graph; "By" is not a name.
    assert_eq!(a.authors, vec!["Ana Ribeiro", "Tom Okafor"]);
    assert_eq!(
        a.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2025-03-14T06:30:00+01:00")
    );
    assert_eq!(
        a.modified.map(|d| d.to_rfc3339()).as_deref(),
        Some("2025-03-14T11:05:00+01:00")
    );
    assert_eq!(a.language.as_deref(), Some("en"));
    assert_eq!(a.site_name.as_deref(), Some("The River Gazette"));
    // The complete `articleBody` is the text, one paragraph a line.
    let paras: Vec<&str> = a.text.split("\n\n").collect();
    assert_eq!(paras.len(), 4);
    assert!(paras[0].starts_with("The temporary flood barriers"));
    assert!(paras[3].ends_with("anywhere in the district."));
    assert_eq!(a.kind, PageKind::Article);
}

#[test]
fn a_truncated_article_body_is_not_used() {
    let html = r#"<html><head><script type="application/ld+json">
        {"@type":"Article","headline":"Short","articleBody":"The first words of a long story that the site cut off after a few lines of teaser text so that readers would click through to the page itself..."}
        </script></head><body><article><h1>Short</h1>
        <p>The first words of a long story that the site cut off after a few lines of teaser text, and here the full text goes on with much more detail than the teaser gave.</p>
        <p>A second paragraph follows, with its own detail, so the page text is clearly the complete one.</p>
        </article></body></html>"#;
    let a = run(html, "https://news.example/a/short", None).article;
    assert!(a.text.contains("A second paragraph follows"));
    assert!(!a.text.contains("..."));
}

#[test]
fn a_page_with_no_metadata_at_all() {
    let ex = run(
        &fixture("no-metadata.html"),
        "https://radio-notes.example/notes/restoring-a-radio",
        None,
    );
    let a = &ex.article;
    assert_eq!(a.title.as_deref(), Some("Notes on restoring a 1950s radio"));
    assert!(a.authors.is_empty());
    assert!(a.published.is_none());
    assert_eq!(a.language.as_deref(), Some("en"));
    let paras: Vec<&str> = a.text.split("\n\n").collect();
    assert_eq!(
        paras.first().copied(),
        Some(
            "The set came from a house clearance, its cabinet cracked and its dial cord snapped, but the valves all lit when I first powered it through a lamp in series."
        )
    );
    assert!(
        paras.contains(&"The dial cord"),
        "subheading kept: {paras:?}"
    );
    assert!(
        paras.contains(&"Waxed braided cord, about 1.2 metres."),
        "list kept"
    );
    assert_eq!(
        paras.last().copied(),
        Some(
            "Now it pulls in the long-wave stations clearly in the evening, which is all it was ever meant to do."
        )
    );
    assert!(!a.text.contains("Older notes") && !a.text.contains("Home"));
    assert_eq!(a.kind, PageKind::Article);
    assert!(
        ex.links
            .iter()
            .any(|l| l.url.as_str() == "https://radio-notes.example/notes/older")
    );
}

#[test]
fn a_section_front_is_a_page() {
    let a = run(
        &fixture("section-front.html"),
        "https://planet.example/world/",
        None,
    )
    .article;
    assert_eq!(a.kind, PageKind::Page);
    assert_eq!(a.title.as_deref(), Some("World news"));
}

#[test]
fn a_profile_overrides_the_generic_result() {
    let html = r#"<html><head><title>Generic title | Site</title>
        <meta property="article:published_time" content="2024-01-01T00:00:00Z"></head><body>
        <div class="teaser"><p>This long teaser paragraph is what generic detection would pick, because it is the longest block of plain prose on the whole page and has commas, clauses, and more.</p></div>
        <div class="story"><h2 class="hed">The headline from the profile</h2>
          <span class="who">Maria Sol</span><span class="when" data-x="1">3 March 2025</span>
          <p>Short real body.</p><div class="promo">Buy our mugs</div><p>Second line.</p></div>
        </body></html>"#;
    let spec: ProfileSpec = toml::from_str(
        r#"host = "mugs.example"
title = "h2.hed"
body = "div.story"
exclude = [".promo", ".who", ".when", "h2"]
authors = ".who"
published = ".when""#,
    )
    .expect("valid profile");
    let profile = Profile::compile(&spec).expect("selectors compile");
    let a = run(html, "https://mugs.example/story", Some(&profile)).article;
    assert_eq!(a.title.as_deref(), Some("The headline from the profile"));
    assert_eq!(a.text, "Short real body.\n\nSecond line.");
    assert_eq!(a.authors, vec!["Maria Sol"]);
    assert_eq!(
        a.published.map(|d| d.date_naive().to_string()).as_deref(),
        Some("2025-03-03")
    );
    // Without the profile the teaser wins.
    let generic = run(html, "https://mugs.example/story", None).article;
    assert!(generic.text.contains("teaser paragraph"));
}

#[test]
fn broken_markup_still_extracts() {
    let html = "<html><head><title>Broken</title><body><div class=content><p>First paragraph of a page whose markup is broken in several ways, <b>bold never closed\
        <p>Second paragraph, inside an unclosed div, with a stray </span> closing tag and an &amp entity without semicolon.\
        <table><tr><td>cell one<td>cell two</table></div></div></div><p>Third paragraph after extra closing tags, still part of the story.\
        <script>document.write('<p>not text</p>')";
    let a = run(html, "https://broken.example/x", None).article;
    assert!(
        a.text
            .contains("First paragraph of a page whose markup is broken")
    );
    assert!(a.text.contains("Second paragraph"));
    assert!(a.text.contains("& entity"));
    assert!(!a.text.contains("not text"));
    assert!(!a.text.contains('<'));
}

#[test]
fn source_links_from_metadata_and_via_lines() {
    let html = r#"<html><head><title>Copy</title>
        <link rel="canonical" href="https://original.example/story/42">
        <meta name="syndication-source" content="https://wire.example/item/7"></head>
        <body><article><h1>Copy</h1>
        <p>A syndicated story, republished here in full with the permission of the original publisher and its author.</p>
        <p>Via <a href="https://blog.example/post">The Example Blog</a></p>
        <p>Originally published at https://first.example/p/1.</p></article></body></html>"#;
    let ex = run(html, "https://republisher.example/copy", None);
    let mut sources = ex.article.source_links.clone();
    sources.sort();
    assert_eq!(
        sources,
        vec![
            "https://blog.example/post",
            "https://first.example/p/1",
            "https://original.example/story/42",
            "https://wire.example/item/7",
        ]
    );
    assert!(!ex.article.text.contains("Via") && !ex.article.text.contains("Originally"));
    let followed = ex
        .links
        .iter()
        .filter(|l| l.kind == LinkKind::Source)
        .count();
    assert_eq!(followed, 4);
}

#[test]
fn text_is_nfc_without_entities_or_markup() {
    let html = "<html><body><article><p>Cafe\u{301} cre\u{300}me &amp;amp; tea &lt;b&gt; &nbsp; and   spaces\u{200b} inside a long enough paragraph of prose.</p></article></body></html>";
    let a = run(html, "https://cafe.example/a", None).article;
    assert_eq!(
        a.text,
        "Café crème & tea <b> and spaces inside a long enough paragraph of prose."
    );
}

#[test]
fn an_article_split_into_sections_keeps_every_section() {
    // Each section wears a class with "nav" in it, and a call-to-action
    // box sits between them; the first section is too small to pass as
    // the article on its own.
    let section = |paras: &[&str]| {
        let ps: String = paras.iter().map(|p| format!("<p>{p}</p>")).collect();
        format!(r#"<div class="content-nav-section"><div class="rtf">{ps}</div></div>"#)
    };
    let intro = section(&[
        "Wealth-building strategies matter to every generation, and for good reason: the years of highest earning are the years that decide retirement.",
        "Young savers face rising rents, student debt and slow wage growth while saving for homes and families.",
    ]);
    let tips: Vec<String> = (1..=8)
        .map(|k| format!("Tip {k}: a long paragraph of advice about budgets, saving, investing and insurance, with enough words and commas to count as article text, and then some more."))
        .collect();
    let tips: Vec<&str> = tips.iter().map(String::as_str).collect();
    let body = section(&tips);
    let html = format!(
        r#"<html><body><nav><a href="/">Home</a></nav><main>
        <div class="hero"><h1>Money management for young savers</h1>{intro}</div>
        <div class="learn-cta"><p>What affects your credit score?</p><a href="/credit">Find out</a></div>
        {body}
        <div class="join-cta content-nav-section"><a href="/join">Join us</a></div>
        </main></body></html>"#
    );
    let a = run(&html, "https://bank.example/learn/money-management", None).article;
    assert!(
        a.text.starts_with("Wealth-building strategies matter"),
        "{}",
        a.text
    );
    assert!(a.text.contains("Tip 8: a long paragraph"));
    assert!(!a.text.contains("Join us"));
}

#[test]
fn the_blurb_about_the_author_is_not_article_text() {
    let paras: String = (1..=6)
        .map(|k| format!("<p>Paragraph {k} of the story about the harbour, with enough words and commas, details and quotes to count as the article's own text.</p>"))
        .collect();
    let html = format!(
        r#"<html><head><meta name="author" content="Karina Cohen"></head><body><article>
        <h1>The harbour reopens</h1>
        <p>Jan Novak is the harbour master, and he has waited two years for this morning, he says, standing on the new quay.</p>
        {paras}
        <p>Karina Cohen is the owner of a local cleaning company and writes about the city's working life for this paper.</p>
        </article></body></html>"#
    );
    let a = run(&html, "https://harbour.example/news/reopens", None).article;
    assert_eq!(a.authors, ["Karina Cohen"]);
    assert!(a.text.contains("Jan Novak is the harbour master"));
    assert!(a.text.contains("Paragraph 6 of the story"));
    assert!(!a.text.contains("Karina Cohen is the owner"), "{}", a.text);
}

#[test]
fn ruby_readings_are_not_part_of_the_text() {
    // Furigana over the kanji of a news page for young readers: the
    // readings (`<rt>`, and `<rp>` fallbacks) would split every word.
    let para = "<p><ruby>子<rt>こ</rt></ruby>どもへの<ruby>虐待<rp>(</rp><rt>ぎゃくたい</rt><rp>)</rp></ruby>をなくすための<ruby>法律<rt>ほうりつ</rt></ruby>ができて、<ruby>親<rt>おや</rt></ruby>が<ruby>子<rt>こ</rt></ruby>どもを<ruby>教育<rt>きょういく</rt></ruby>するために、たたいたりする<ruby>体罰<rt>たいばつ</rt></ruby>を<ruby>禁止<rt>きんし</rt></ruby>することになりました。</p>";
    let html = format!(
        r#"<html lang="ja"><head><title>体罰を禁止する法律</title></head><body>
        <article><h1>体罰を禁止する法律</h1>{}</article></body></html>"#,
        para.repeat(3)
    );
    let a = run(&html, "https://news-easy.test/k10011234.html", None).article;
    assert!(
        a.text
            .contains("子どもへの虐待をなくすための法律ができて、親が子どもを教育するために"),
        "{}",
        a.text
    );
    assert!(!a.text.contains("ぎゃくたい"), "{}", a.text);
    assert!(!a.text.contains('('), "{}", a.text);
}

#[test]
fn a_long_lead_paragraph_does_not_stand_for_the_whole_article() {
    // The lead outscores the article's container on its own (the container
    // also holds a line of links); the short lines after it are the
    // article's too.
    let lead = "Die Löwen haben am Dienstag den Vorverkauf für die nächsten Heimspiele der Liga gestartet, allerdings nur in kleinem Umfang, weil die Landesregierung die Zahl der erlaubten Zuschauer in den Hallen vorerst begrenzt hat und der Verein erst nach der neuen Verordnung weiß, wie viele Karten er am Ende wirklich verkaufen darf. Dauerkarteninhaber werden zuerst informiert und können ihre Plätze bis Freitag sichern, danach geht der Rest in den freien Verkauf.";
    let html = format!(
        r#"<html lang="de"><head><title>Kleiner Vorverkauf gestartet</title></head><body>
        <nav><a href="/">Start</a> <a href="/news">News</a> <a href="/tickets">Tickets</a></nav>
        <main><h1>Kleiner Vorverkauf gestartet</h1><div class="wysiwyg">
        <p>{lead}</p>
        <p>Am 12. Februar um 20.30 Uhr treffen die Löwen zu Hause auf den THW Kiel.</p>
        <p><a href="/tickets">Tickets online kaufen</a> oder an der Kasse.</p>
        </div></main></body></html>"#
    );
    let a = run(&html, "https://handball.test/vorverkauf-gestartet", None).article;
    assert!(a.text.contains("freien Verkauf"), "{}", a.text);
    assert!(
        a.text
            .contains("treffen die Löwen zu Hause auf den THW Kiel"),
        "{}",
        a.text
    );
}
