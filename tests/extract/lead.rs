//! The article's lead (standfirst): pages set it apart from the body, in
//! the article's header, and say it again in their description metadata.
//! It is the story's first paragraph, and its edits are edits of the story.

use super::run;

const LEAD: &str = "Die Stadt baut in diesem Jahr mehr als zwanzig Kilometer neue Radwege, vor allem in den Vierteln, in denen es bisher kaum sichere Verbindungen gibt.";

/// A news page: the headline and the lead in the article's header, the
/// body in a container of its own, then `after` (inside the page, outside
/// the article); `description` is the page's description metadata.
fn page(description: &str, after: &str) -> String {
    format!(
        r#"<html lang="de"><head><title>Neue Radwege in der Stadt</title>
        <meta name="description" content="{description}"></head><body>
        <header class="article-header"><h1>Neue Radwege in der Stadt</h1>
        <p class="standfirst">{LEAD}</p></header>
        <div class="article-body">
        <p>Für die Pendler, die jeden Tag mit dem Rad in die Innenstadt fahren, soll sich vor allem an den großen Kreuzungen etwas ändern, weil dort die meisten Unfälle passieren.</p>
        <p>Die ersten Arbeiten sollen schon im Frühjahr beginnen, wenn das Wetter es zulässt, und bis zum Ende des Jahres abgeschlossen sein, sagte die Sprecherin der Verwaltung.</p>
        <p>Die Verwaltung erhofft sich von dem Plan eine spürbare Entlastung der Straßen, vor allem morgens, wenn Schüler und Pendler zur selben Zeit unterwegs sind.</p>
        </div>{after}</body></html>"#
    )
}

const URL: &str = "https://stadtblatt.test/2025/radwege";

#[test]
fn the_lead_in_the_articles_header_opens_the_text() {
    let a = run(&page(LEAD, ""), URL, None).article;
    assert!(a.text.starts_with(LEAD), "{}", a.text);
    assert_eq!(a.text.matches(LEAD).count(), 1, "{}", a.text);
    assert!(a.text.contains("spürbare Entlastung der Straßen"));
}

#[test]
fn a_cut_short_description_still_finds_the_whole_lead() {
    let cut: String = LEAD.chars().take(90).collect();
    let a = run(&page(&format!("{cut}…"), ""), URL, None).article;
    assert!(a.text.starts_with(LEAD), "{}", a.text);
}

#[test]
fn a_lead_the_body_already_holds_is_not_repeated() {
    let html = page(LEAD, "").replace(
        "<div class=\"article-body\">",
        &format!("<div class=\"article-body\"><p>{LEAD}</p>"),
    );
    let a = run(&html, URL, None).article;
    assert_eq!(a.text.matches(LEAD).count(), 1, "{}", a.text);
}

#[test]
fn a_description_the_page_shows_only_after_the_article_is_not_its_lead() {
    // Without the header's copy, the description's text appears only in a
    // teaser after the article: that is another box, not the story's lead,
    // and it does not open the text.
    let teaser = format!("<div class=\"teaser\"><p>{LEAD}</p></div>");
    let html = page(LEAD, &teaser).replace(&format!("<p class=\"standfirst\">{LEAD}</p>"), "");
    let a = run(&html, URL, None).article;
    assert!(a.text.starts_with("Für die Pendler"), "{}", a.text);
}

#[test]
fn a_description_that_is_a_few_words_finds_no_lead() {
    // "Radwege" alone would match too much to be a lead.
    let html = page("Radwege", "").replace(
        &format!("<p class=\"standfirst\">{LEAD}</p>"),
        "<p class=\"standfirst\">Radwege</p>",
    );
    let a = run(&html, URL, None).article;
    assert!(!a.text.starts_with("Radwege"), "{}", a.text);
}

#[test]
fn a_description_that_repeats_the_headline_does_not_bring_it_back() {
    let headline =
        "Die Stadt baut in diesem Jahr mehr als zwanzig Kilometer neue Radwege in allen Vierteln";
    let html = page(headline, "")
        .replace(
            "<h1>Neue Radwege in der Stadt</h1>",
            &format!("<div class=\"headline\"><h1>{headline}</h1></div>"),
        )
        .replace(&format!("<p class=\"standfirst\">{LEAD}</p>"), "")
        .replace(
            "<title>Neue Radwege in der Stadt</title>",
            &format!("<title>{headline}</title>"),
        );
    let a = run(&html, URL, None).article;
    assert_eq!(a.title.as_deref(), Some(headline));
    assert!(!a.text.contains(headline), "{}", a.text);
}
