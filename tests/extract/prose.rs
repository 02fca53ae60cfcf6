//! What leaves an article's container that is not the article: the
//! headings of the page's tail (found by the prose test: stop words, link
//! density and neighbours, after jusText, in the page's own language) and
//! the short rest after them, boxes whose class says what they are,
//! cookie notices, paragraphs that the page's own structured body
//! (JSON-LD `articleBody`) does not hold, teaser cards of other stories,
//! data or script lists left visible, and reader comments.

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
    // The same page with the last section under an `<h2>` like the others
    // (and, like theirs, not a link): the article's outline, not a tail.
    let html = german_article_with_teaser("Neue Regeln für Mieter ab Januar")
        .replace("<h4><a href=\"/2025/mieten\">", "<h2>")
        .replace("</a></h4>", "</h2>");
    assert!(!html.contains("/2025/mieten"), "fixture: {html}");
    let a = run(&html, "https://stadtblatt.test/2025/radwege", None).article;
    assert!(
        a.text.contains("Neue Regeln für Mieter ab Januar"),
        "{}",
        a.text
    );
}

#[test]
fn calls_to_action_and_affiliate_notices_inside_the_article_leave_it() {
    // Boxes the article's container holds that are not the article, told
    // by their class alone: a call to action, an opt-in, an affiliate
    // disclosure, a paywall breaker, an entry's utility line.
    let html = r#"<html lang="en"><head><title>How we tested standing desks</title></head><body>
        <article class="post"><h1>How we tested standing desks</h1>
        <p class="affiliate-disclosure">Products are chosen independently and we may earn a commission when you buy through our links.</p>
        <p>We spent three months at twelve standing desks, raising and lowering each of them more than four hundred times, and measured how much each one wobbled at full height.</p>
        <div class="post-cta"><p>Ready to upgrade your home office? Our partners ship within two days to most addresses.</p></div>
        <p>The steadiest desk was also one of the cheapest, which surprised everyone on the team, and its motor stayed quiet enough for calls even at the end of the test.</p>
        <div class="optin-box"><p>Get our weekly picks of the best office gear, hand tested by our editors.</p></div>
        <p>For most people, we recommend the mid-sized frame with a bamboo top, because it fits small rooms and costs less than the premium models we tried.</p>
        <div class="entry-utility">This entry was filed under Office and tagged with desks and ergonomics.</div>
        </article></body></html>"#;
    let a = run(html, "https://gear-notes.test/standing-desks", None).article;
    assert!(
        a.text
            .contains("The steadiest desk was also one of the cheapest")
    );
    assert!(a.text.contains("we recommend the mid-sized frame"));
    for furniture in [
        "may earn a commission",
        "Ready to upgrade your home office",
        "weekly picks of the best office gear",
        "This entry was filed under",
    ] {
        assert!(!a.text.contains(furniture), "{furniture}: {}", a.text);
    }
}

#[test]
fn a_comment_section_longer_than_the_article_is_not_the_article() {
    // Its items wear no class; the section's own id and class say what it is.
    let comment = |n: usize| {
        format!(
            r#"<li><p><b>Reader {n}</b> wrote:</p>
            <p>I have been following this story since the start and I think the council should have asked the people who live along the river before it decided anything at all, number {n}.</p></li>"#
        )
    };
    let comments: String = (1..=8).map(comment).collect();
    let html = format!(
        r#"<html lang="en"><head><title>River path reopens</title></head><body>
        <div class="wrap"><div class="post"><h1>River path reopens</h1>
        <p>The river path reopened on Saturday after six months of repairs to the banks, which the spring floods had washed away in three places between the two bridges.</p>
        <p>The council said the new banks are built to hold a flood twice as high as the last one, and that the path will stay open through the winter.</p></div>
        <div id="comments" class="comments"><h3>8 thoughts on this</h3><ol>{comments}</ol></div>
        </div></body></html>"#
    );
    let a = run(&html, "https://riverside-news.test/2025/path", None).article;
    assert!(a.text.contains("reopened on Saturday"), "{}", a.text);
    assert!(a.text.contains("stay open through the winter"));
    assert!(
        !a.text.contains("following this story since the start"),
        "{}",
        a.text
    );
}

/// The German article with one more section, then `tail` after it inside
/// the same container.
fn german_article_then(tail: &str) -> String {
    german_article_with_teaser("")
        .replace(
            "<h4><a href=\"/2025/mieten\"></a></h4>\n        <p>Ab Januar gelten für viele Mieter in der Region neue Regeln bei den Nebenkosten.</p>",
            &format!(
                "<h2>Was die Anwohner sagen</h2>
        <p>Viele Anwohner begrüßen die Pläne, auch wenn einige von ihnen befürchten, dass in ihren Straßen Parkplätze wegfallen werden, die sie für ihre Autos brauchen, und dass die Bauarbeiten den Verkehr in den Wohnvierteln über Monate behindern könnten.</p>
        {tail}"
            ),
        )
}

#[test]
fn a_short_teaser_box_after_the_article_leaves_with_its_heading() {
    // "Weitere Beiträge": linked headlines of other stories, each with
    // its excerpt, after the last paragraph; the excerpts are prose and
    // would stay on their own.
    let html = german_article_then(
        r#"<h4><a href="/2025/mieten">Neue Regeln für Mieter</a></h4>
        <p>Ab Januar gelten neue Regeln bei den Nebenkosten.</p>
        <h4><a href="/2025/bad">Das Freibad öffnet früher</a></h4>
        <p>Die Saison beginnt in diesem Jahr schon im Mai.</p>"#,
    );
    assert!(html.contains("Was die Anwohner sagen"), "fixture: {html}");
    let a = run(&html, "https://stadtblatt.test/2025/radwege", None).article;
    assert!(
        a.text.contains("über Monate behindern könnten"),
        "the article's last paragraph stays: {}",
        a.text
    );
    for teaser in ["Ab Januar gelten neue Regeln", "schon im Mai"] {
        assert!(
            !a.text.contains(teaser),
            "a teaser's excerpt is the page's tail: {}",
            a.text
        );
    }
}

#[test]
fn a_long_part_after_a_heading_of_a_new_rank_is_not_cut() {
    // The same opening, but what follows the teaser heading weighs as much
    // as a section of the article: the heading goes, the text stays.
    let excerpts = (1..=6)
        .map(|n| {
            format!(
                r#"<h4><a href="/2025/meldung-{n}">Meldung {n}</a></h4>
        <p>Kurz notiert: Punkt {n} der Tagesordnung des Stadtrats betrifft Gebühren.</p>"#
            )
        })
        .collect::<String>();
    let a = run(
        &german_article_then(&excerpts),
        "https://stadtblatt.test/2025/radwege",
        None,
    )
    .article;
    assert!(
        !a.text.contains("Meldung 1"),
        "the heading is still the tail's: {}",
        a.text
    );
    assert!(
        a.text.contains("Punkt 1 der Tagesordnung"),
        "a long rest is not cut for the heading before it: {}",
        a.text
    );
}

#[test]
fn a_cookie_notice_inside_the_article_leaves_it_but_baked_cookies_stay() {
    let polish = r#"<html lang="pl"><head><title>Urlop dla rodziców</title></head><body>
        <article><h1>Urlop dla rodziców</h1>
        <p>Nowa Zelandia, jako drugi kraj na świecie po Indiach, wprowadza płatny trzydniowy urlop dla rodziców, a prawo do urlopu ma przysługiwać bez względu na etap ciąży, w którym doszło do straty, i obejmie także partnerów.</p>
        <p>Informujemy, że nasza strona korzysta z plików cookies.</p>
        <p>Ustawę przyjęto jednogłośnie, a jej autorka powiedziała w parlamencie, że ma ona dać rodzinom czas na żałobę bez obawy o utratę pracy i bez konieczności brania zwolnienia lekarskiego.</p>
        </article></body></html>"#;
    let a = run(polish, "https://wiadomosci.test/urlop", None).article;
    assert!(a.text.contains("bez konieczności brania"), "{}", a.text);
    assert!(!a.text.contains("cookies"), "{}", a.text);

    let recipe = r#"<html lang="en"><head><title>Brown butter cookies</title></head><body>
        <article><h1>Brown butter cookies</h1>
        <p>Brown the butter slowly until it smells of toasted nuts, then let it cool for ten minutes before you beat it with both sugars, because hot butter melts the sugar and the dough spreads in the oven.</p>
        <p>Let the cookies rest on the tray for five minutes.</p>
        <p>Stored in a tin with a slice of bread, they stay soft for three days, and the dough keeps in the freezer for a month if you roll it into a log and wrap it well before you slice it.</p>
        </article></body></html>"#;
    let a = run(recipe, "https://kitchen.test/brown-butter-cookies", None).article;
    assert!(
        a.text.contains("Let the cookies rest on the tray"),
        "{}",
        a.text
    );
}

#[test]
fn a_linked_headline_after_the_article_is_the_tail_at_any_rank() {
    // The teaser's headline is an `<h2>` like the article's sections, but
    // a link to another story: it and its excerpt leave the text.
    let html = german_article_with_teaser("Neue Regeln für Mieter ab Januar")
        .replace("<h4>", "<h2>")
        .replace("</h4>", "</h2>");
    let a = run(&html, "https://stadtblatt.test/2025/radwege", None).article;
    assert!(a.text.contains("Wann die Arbeiten beginnen"), "{}", a.text);
    assert!(a.text.contains("spürbare Entlastung der Straßen"));
    assert!(!a.text.contains("Neue Regeln für Mieter"), "{}", a.text);
    assert!(!a.text.contains("Nebenkosten"), "{}", a.text);
}

#[test]
fn a_norwegian_page_tagged_bokmal_has_its_tail_found_by_stop_words() {
    // Markup and detector name Bokmål (`nb`); the stop words are filed
    // under Norwegian (`no`). Blind to them, the list of place names after
    // the linked teaser heading would pass for prose and keep the tail.
    let html = r#"<html lang="nb"><head><title>Nye sykkelveier i byen</title></head><body>
        <article><h1>Nye sykkelveier i byen</h1>
        <p>Kommunen sa på mandag at det i år skal bygges mer enn tjue kilometer med nye sykkelveier, og at de fleste av dem skal ligge i de delene av byen der det til nå har vært få trygge veier for barn og for de som er eldre.</p>
        <p>For de som sykler til jobben hver dag, skal det særlig bli endringer i de store krysningene, fordi det er der de fleste ulykkene skjer og fordi lysene der ikke er tilpasset til de som kommer på sykkel.</p>
        <p>Det første arbeidet skal begynne allerede i vår, hvis været er bra nok, og det skal være ferdig før slutten av året, sa en talskvinne for kommunen, som håper at planen vil gi mindre trafikk i gatene.</p>
        <p>Mange av de som bor i området er glade for planene, selv om noen av dem er redde for at det blir færre plasser for bilene deres, og at arbeidet kan gjøre det vanskelig å komme fram i gatene i flere måneder.</p>
        <p>Politikerne skal ta den siste avgjørelsen om planen i et møte neste måned, men de fleste av partiene har allerede sagt at de vil stemme for den, og at de mener at byen har ventet for lenge på dette.</p>
        <p>Hvis planen blir vedtatt, skal kommunen også se på om det er mulig å bygge flere steder der man kan sette fra seg sykkelen, både ved skolene og ved stasjonene, slik at det blir enklere for folk å la bilen stå hjemme, og at flere vil sykle når veiene er trygge.</p>
        <h4><a href="/2025/steder">Mer fra redaksjonen</a></h4>
        <p>Oslo, Bergen, Trondheim, Stavanger, Tromsø, Kristiansand, Drammen, Fredrikstad, Sandnes, Bodø, Ålesund, Tønsberg, Moss, Haugesund, Sandefjord, Arendal, Hamar, Larvik, Halden, Lillehammer, Molde, Harstad.</p>
        </article></body></html>"#;
    let a = run(html, "https://byavisen.test/2025/sykkelveier", None).article;
    assert!(
        a.text.contains("flere vil sykle når veiene er trygge"),
        "the article's last paragraph stays: {}",
        a.text
    );
    assert!(
        !a.text.contains("Mer fra redaksjonen"),
        "the teaser heading is the page's tail: {}",
        a.text
    );
    assert!(
        !a.text.contains("Lillehammer"),
        "the place names after it are not prose: {}",
        a.text
    );
}

const STORY: [&str; 3] = [
    "Die Stadt hat am Montag angekündigt, dass in diesem Jahr mehr als zwanzig Kilometer neue Radwege gebaut werden sollen, und zwar vor allem in den Vierteln, in denen es bisher kaum sichere Verbindungen für Kinder und ältere Menschen gibt.",
    "Für die Pendler, die jeden Tag mit dem Rad in die Innenstadt fahren, soll sich vor allem an den großen Kreuzungen etwas ändern, weil dort die meisten Unfälle passieren und die Ampeln bisher nicht auf den Radverkehr abgestimmt sind.",
    "Die ersten Arbeiten sollen schon im Frühjahr beginnen, wenn das Wetter es zulässt, und bis zum Ende des Jahres abgeschlossen sein, sagte die Sprecherin der Verwaltung, die sich von dem Plan eine spürbare Entlastung der Straßen erhofft.",
];

const PROMOTION: &str = "Sichern Sie sich jetzt unser Angebot für Leserinnen und Leser und lesen Sie alle Artikel einen Monat lang für nur einen Euro.";

/// The story with a promotion after its second paragraph, and a JSON-LD
/// `articleBody` of `ld_paragraphs` of its paragraphs.
fn story_with_promotion(ld_paragraphs: usize) -> String {
    let ld = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Neue Radwege in der Stadt",
        "articleBody": STORY[..ld_paragraphs].join("\n"),
    });
    format!(
        r#"<html lang="de"><head><title>Neue Radwege in der Stadt</title>
        <script type="application/ld+json">{ld}</script></head><body>
        <article><h1>Neue Radwege in der Stadt</h1>
        <p>{}</p><h2>Was sich für Pendler ändert</h2><p>{}</p>
        <p>{PROMOTION}</p>
        <p>{}</p></article></body></html>"#,
        STORY[0], STORY[1], STORY[2]
    )
}

#[test]
fn a_paragraph_the_pages_structured_body_does_not_hold_leaves_the_text() {
    let a = run(
        &story_with_promotion(3),
        "https://stadtblatt.test/2025/radwege",
        None,
    )
    .article;
    assert!(!a.text.contains("einen Euro"), "{}", a.text);
    for p in STORY {
        assert!(a.text.contains(p), "{p} is missing: {}", a.text);
    }
    assert!(
        a.text.contains("Was sich für Pendler ändert"),
        "headings are not judged by the structured body: {}",
        a.text
    );
}

#[test]
fn a_structured_body_holding_only_part_of_the_article_drops_nothing() {
    // A paywall's `articleBody`: the first paragraph only.
    let a = run(
        &story_with_promotion(1),
        "https://stadtblatt.test/2025/radwege",
        None,
    )
    .article;
    assert!(a.text.contains("einen Euro"), "{}", a.text);
    for p in STORY {
        assert!(a.text.contains(p), "{p} is missing: {}", a.text);
    }
}

/// Cards of the same markup, each a linked headline over a line of excerpt,
/// linking to `href_prefix` + a number.
fn cards(class: &str, href_prefix: &str, n: usize) -> String {
    (1..=n)
        .map(|k| {
            format!(
                r#"<div class="{class}"><h3><a href="{href_prefix}{k}">Ein ganz anderer Bericht über die Stadt, Folge {k}</a></h3>
                <p>Was in der Folge {k} geschah, lesen Sie hier.</p></div>"#
            )
        })
        .collect()
}

/// The story's three paragraphs in one container, then `after` inside it.
fn story_then(after: &str) -> String {
    format!(
        r#"<html lang="de"><head><title>Neue Radwege in der Stadt</title></head><body>
        <div class="content"><h1>Neue Radwege in der Stadt</h1>
        <p>{}</p><p>{}</p><p>{}</p>{after}</div></body></html>"#,
        STORY[0], STORY[1], STORY[2]
    )
}

#[test]
fn teaser_cards_of_other_stories_after_the_article_leave_it() {
    let html = story_then(&format!(
        "<div class=\"more\"><h2>Neueste Beiträge</h2>{}</div>",
        cards("teaser-card", "/2025/bericht-", 4)
    ));
    let a = run(&html, "https://stadtblatt.test/2025/radwege", None).article;
    for p in STORY {
        assert!(a.text.contains(p), "{p} is missing: {}", a.text);
    }
    assert!(!a.text.contains("Ein ganz anderer Bericht"), "{}", a.text);
    assert!(!a.text.contains("lesen Sie hier"), "{}", a.text);
}

#[test]
fn questions_that_link_within_the_page_are_not_teaser_cards() {
    // The same markup, but the links lead to places on this page: the
    // article's own questions and answers.
    let html = story_then(&cards("faq-item", "#frage-", 4));
    let a = run(&html, "https://stadtblatt.test/2025/radwege", None).article;
    assert!(a.text.contains("Was in der Folge 2 geschah"), "{}", a.text);
}

#[test]
fn a_list_that_is_most_of_the_article_is_not_teaser_cards() {
    // A listicle: after a few paragraphs, the list is more than half of
    // the text.
    let html = story_then(&format!(
        "<p>Wer die neuen Wege ausprobieren will, findet hier alle Strecken, von der kurzen Runde am Fluss bis zur langen Tour über die Hügel im Süden der Stadt, mit allem, was man vorher wissen sollte.</p>{}",
        cards("entry", "/radweg-", 12)
    ));
    let a = run(&html, "https://stadtblatt.test/2025/zwoelf", None).article;
    assert!(a.text.contains("Was in der Folge 5 geschah"), "{}", a.text);
}

#[test]
fn data_and_script_lists_left_visible_are_not_text_but_code_in_pre_is() {
    let config = r#"{"player":{"key":"a1b2c3d4","autoplay":false,"events":["play","pause"]}}"#;
    let scripts =
        "https://cdn.stadtblatt.test/js/app.min.js https://cdn.stadtblatt.test/js/vendor.js";
    let html = story_then(&format!(
        "<div class=\"embed\">{config}</div><div>{scripts}</div><pre>{config}</pre>"
    ));
    let a = run(&html, "https://stadtblatt.test/2025/radwege", None).article;
    for p in STORY {
        assert!(a.text.contains(p), "{p} is missing: {}", a.text);
    }
    assert!(!a.text.contains("app.min.js"), "{}", a.text);
    assert_eq!(
        a.text.matches("\"autoplay\"").count(),
        1,
        "only the code shown in <pre> stays: {}",
        a.text
    );
}

/// Reader comments in markup that does not name them, each with a reply
/// link in `reply` (the link's text).
fn comments(n: usize, reply: &str) -> String {
    (1..=n)
        .map(|k| {
            format!(
                r#"<li class="entry"><div class="who"><b>Leserin {k}</b> <span>3. März 2025</span></div>
                <p>Das ist meine Meinung Nummer {k} zu den Radwegen, und ich finde, die Stadt hätte das viel früher machen sollen.</p>
                <a href="/2025/radwege/{k}">{reply}</a></li>"#
            )
        })
        .collect()
}

#[test]
fn reader_comments_with_reply_links_leave_the_text_in_any_language() {
    for reply in ["Antworten", "Reply", "Responder"] {
        let html = story_then(&format!(
            "<h3>3 Reaktionen</h3><ol class=\"discussion\">{}</ol>",
            comments(3, reply)
        ));
        let a = run(&html, "https://stadtblatt.test/2025/radwege", None).article;
        for p in STORY {
            assert!(a.text.contains(p), "{p} is missing: {}", a.text);
        }
        assert!(!a.text.contains("Meinung Nummer"), "{reply}: {}", a.text);
    }
}

#[test]
fn a_thread_that_is_nearly_all_of_the_page_keeps_its_posts() {
    // A forum page: the posts are the text, each with a reply link.
    let html = format!(
        r#"<html lang="de"><head><title>Radwege: eure Meinung?</title></head><body>
        <div class="content"><h1>Radwege: eure Meinung?</h1><ol class="thread">{}</ol></div></body></html>"#,
        comments(6, "Antworten")
    );
    let a = run(&html, "https://forum.stadtblatt.test/t/radwege", None).article;
    assert!(a.text.contains("Meinung Nummer 3"), "{}", a.text);
}

#[test]
fn a_listicle_whose_groups_have_subheadings_keeps_every_group() {
    // Four groups of three entries, each under its own heading: the runs
    // are one list, and the list is most of the text.
    let groups: String = (1..=4)
        .map(|g| {
            let entries = cards("entry", &format!("/gruppe-{g}/radweg-"), 3)
                .replace("Folge ", &format!("Folge {g}."));
            format!("<h2>Gruppe {g}</h2>{entries}")
        })
        .collect();
    let html = story_then(&groups);
    let a = run(&html, "https://stadtblatt.test/2025/radwege", None).article;
    for g in 1..=4 {
        assert!(
            a.text.contains(&format!("Was in der Folge {g}.2 geschah")),
            "group {g}'s entries stay: {}",
            a.text
        );
    }
}

#[test]
fn questions_whose_answers_link_elsewhere_are_not_teaser_cards() {
    let faq: String = (1..=4)
        .map(|k| {
            format!(
                r#"<div class="faq"><h3>Wann ist Frage {k} beantwortet?</h3>
                <div><p>Die Antwort {k} steht in <a href="/ratgeber/radwege-{k}">unserem Ratgeber zu Radwegen</a>.</p></div></div>"#
            )
        })
        .collect();
    let a = run(
        &story_then(&faq),
        "https://stadtblatt.test/2025/radwege",
        None,
    )
    .article;
    assert!(a.text.contains("Die Antwort 3 steht in"), "{}", a.text);
}
