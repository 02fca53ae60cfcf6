//! The prose test (stop words, link density and neighbours, after
//! jusText) working with the container method: what it takes out of a
//! page's tail, in the page's own language.

use super::run;

/// A German article with two `<h2>` sections, then a teaser for another
/// article under an `<h4>` of its own, inside the same container.
fn german_article_with_teaser(teaser_heading: &str) -> String {
    format!(
        r#"<html lang="de"><head><title>Neue Radwege in der Stadt</title></head><body>
        <article><h1>Neue Radwege in der Stadt</h1>
        <p>Die Stadt hat am Montag angekündigt, dass in diesem Jahr mehr als zwanzig Kilometer neue Radwege gebaut werden sollen, und zwar vor allem in den Vierteln, in denen es bisher kaum sichere Verbindungen für Kinder und ältere Menschen gibt.</p>
        <h2>Was sich für Pendler ändert</h2>
        <p>Für die Pendler, die jeden Tag mit dem Rad in die Innenstadt fahren, soll sich vor allem an den großen Kreuzungen etwas ändern, weil dort die meisten Unfälle passieren und die Ampeln bisher nicht auf den Radverkehr abgestimmt sind.</p>
        <h2>Wann die Arbeiten beginnen</h2>
        <p>Die ersten Arbeiten sollen schon im Frühjahr beginnen, wenn das Wetter es zulässt, und bis zum Ende des Jahres abgeschlossen sein, sagte die Sprecherin der Verwaltung, die sich von dem Plan eine spürbare Entlastung der Straßen erhofft.</p>
        <h4><a href="/2025/mieten">{teaser_heading}</a></h4>
        <p>Ab Januar gelten für viele Mieter in der Region neue Regeln bei den Nebenkosten.</p>
        </article></body></html>"#
    )
}

#[test]
fn a_teaser_heading_after_the_last_paragraph_leaves_the_text() {
    let a = run(
        &german_article_with_teaser("Neue Regeln für Mieter ab Januar"),
        "https://stadtblatt.test/2025/radwege",
        None,
    )
    .article;
    assert!(
        a.text.contains("Wann die Arbeiten beginnen"),
        "the article's own sections stay: {}",
        a.text
    );
    assert!(a.text.contains("spürbare Entlastung der Straßen"));
    assert!(
        !a.text.contains("Neue Regeln für Mieter ab Januar"),
        "the teaser's heading is the page's tail: {}",
        a.text
    );
}

#[test]
fn a_last_section_of_the_articles_own_rank_stays() {
    // The same page with the last section under an `<h2>` like the others:
    // the article's outline, not a tail.
    let html = german_article_with_teaser("Neue Regeln für Mieter ab Januar")
        .replace("<h4>", "<h2>")
        .replace("</h4>", "</h2>");
    let a = run(&html, "https://stadtblatt.test/2025/radwege", None).article;
    assert!(
        a.text.contains("Neue Regeln für Mieter ab Januar"),
        "{}",
        a.text
    );
}
