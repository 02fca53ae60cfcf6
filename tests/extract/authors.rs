//! Bylines among page furniture: menu entries that start with "By" or a
//! foreign byline word, role lines beside the name, comment signatures.

use super::run;

fn authors(html: &str) -> Vec<String> {
    run(html, "https://people.example/guides/a-guide", None)
        .article
        .authors
}

const BODY: &str = "<p>The guide explains the whole process step by step, from the first decision to the last detail, with examples drawn from real projects.</p>
    <p>A second paragraph goes further, so that the page has the weight of an article and not of a teaser.</p>";

#[test]
fn words_that_merely_start_like_a_byline_are_not_one() {
    // "Parks" starts with "par" (French "by"), "Port" with "por", "Door"
    // is Dutch "by", "Authority" starts with "author".
    let html = format!(
        r#"<html><body>
        <nav><ul><li><a href="/parks">Parks &amp; Recreation</a></li>
        <li><a href="/door-locks/">Door Locks &amp; Smart Locks</a></li>
        <li><a href="/modalities">By Modality</a></li></ul></nav>
        <p>Port of Call</p><p>Authority Having Jurisdiction</p>
        <h1>A guide</h1><p class="meta">By <a href="/author/jane-roe">Jane Roe</a></p>
        <article>{BODY}</article></body></html>"#
    );
    assert_eq!(authors(&html), ["Jane Roe"]);
}

#[test]
fn the_name_beside_a_role_line_is_the_author() {
    let html = format!(
        r#"<html><body><h1>A guide</h1>
        <div class="byline-info"><span class="byline-role">Founder &amp; Lead Reviewer</span>
        <a href="https://people.example/author/rasmus/" class="byline-name">Rasmus Barslund</a></div>
        <article>{BODY}</article></body></html>"#
    );
    assert_eq!(authors(&html), ["Rasmus Barslund"]);
}

#[test]
fn comment_signatures_and_form_labels_are_not_authors() {
    let html = format!(
        r#"<html><body><h1>A guide</h1><article>{BODY}</article>
        <section class="comments"><div class="comment-author">Florence says</div>
        <p>Lovely post!</p>
        <form><div class="comment-author-name">Name</div><input name="author"></form></section>
        </body></html>"#
    );
    assert_eq!(authors(&html), Vec::<String>::new());
}
