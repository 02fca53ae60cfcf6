//! Publication dates that sit outside the usual metadata: a labelled date
//! in a metadata strip, a date in an author box, a `published-date` meta
//! tag, and an ISO timestamp written out in the page.

use super::run;

fn published(html: &str) -> Option<String> {
    run(html, "https://dates.example/guides/a-guide", None)
        .article
        .published
        .map(|d| d.date_naive().to_string())
}

const BODY: &str = "<p>The guide explains the whole process step by step, from the first decision to the last detail, with examples drawn from real projects.</p>
    <p>A second paragraph goes further, so that the page has the weight of an article and not of a teaser.</p>";

#[test]
fn a_date_after_a_posted_on_label_is_the_publication_date() {
    // The label and the date sit in separate elements, with the
    // indentation of a templated page between them, after a long
    // introduction.
    let intro = "<p>Online courses make learning flexible, scalable and accessible for teams of every size.</p>\n".repeat(40);
    let html = format!(
        r#"<html><body><h1>What is an online course?</h1>
        <div class="intro">{intro}</div>
        <div class="flex flex-wrap">
            <div class="item">
                <span class="label">Posted on</span>
                <div class="row">
                    <svg class="icon"><use href="/icons.svg#calendar"></use></svg>
                    <span class="value">Nov 21, 2018</span>
                </div>
            </div>
            <div class="item"><span class="label">Updated on</span> <span class="value">Jan 9, 2025</span></div>
        </div>
        <article>{BODY}</article></body></html>"#
    );
    assert_eq!(published(&html).as_deref(), Some("2018-11-21"));
}

#[test]
fn a_date_in_the_author_box_is_the_publication_date() {
    let html = format!(
        r#"<html><body><article>
        <div class="resource-author-details"><p>Luke Kim</p><small>December 17, 2025</small></div>
        {BODY}</article></body></html>"#
    );
    assert_eq!(published(&html).as_deref(), Some("2025-12-17"));
}

#[test]
fn a_published_date_meta_tag_and_a_written_out_timestamp_count() {
    let html = format!(
        r#"<html><head><meta name="published-date" content="2021-02-16"></head>
        <body><h1>By land, sea and air</h1><article>{BODY}</article></body></html>"#
    );
    assert_eq!(published(&html).as_deref(), Some("2021-02-16"));
    let html = format!(
        r#"<html><body><h1>Hotspots</h1>
        <p class="byline"><span class="Author_publicationTime__x1">2022-11-23T08:10+02:00 </span></p>
        <article>{BODY}</article></body></html>"#
    );
    assert_eq!(published(&html).as_deref(), Some("2022-11-23"));
}

#[test]
fn the_page_clock_is_not_the_publication_date() {
    // Today's date in the masthead, inside an element whose class says
    // "date"; the article's own date sits in a plain block further down.
    let html = format!(
        r#"<html><body>
        <div class="header-date"><p id="todays-date-custom"><strong>Friday</strong>, December 19, 2025</p></div>
        <h1>What are taxes?</h1>
        <div class="block-content"> 12.12.2025 </div>
        <article>{BODY}</article></body></html>"#
    );
    assert_eq!(published(&html).as_deref(), Some("2025-12-12"));
}

#[test]
fn a_month_spelled_out_in_the_url_gives_the_day() {
    let html = format!("<html><body><h1>Wine styles</h1><article>{BODY}</article></body></html>");
    let a = run(
        &html,
        "https://wine.example/blog/2023/october/03/how-many-styles",
        None,
    )
    .article;
    assert_eq!(
        a.published.map(|d| d.date_naive().to_string()).as_deref(),
        Some("2023-10-03")
    );
}
