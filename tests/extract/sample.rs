//! The sample article (an Indonesian translation of a Vietnamese story)
//! laid out as a real news page: navigation, share bar, video prompts, an
//! ad slot, tags, related articles, a comment section and the `Sumber:`
//! attribution line.

use palimpsest::article::PageKind;
use palimpsest::extract::LinkKind;

use super::{fixture, run};

const URL: &str = "https://kabar-nusantara.example/internasional/jejak-vietnam-konvensi-hanoi";
const SOURCE: &str = "https://vietnamnet.vn/dau-an-khi-van-dong-dai-hoi-dong-lien-hop-quoc-lua-chon-ten-cong-uoc-ha-noi-2449643.html";

#[test]
fn body_is_exactly_the_article() {
    let ex = run(&fixture("sample-id.html"), URL, None);
    let expected = fixture("sample-id.expected.txt");
    assert_eq!(ex.article.text, expected.trim_end());
}

#[test]
fn prompts_comments_and_attribution_are_not_body_text() {
    let text = run(&fixture("sample-id.html"), URL, None).article.text;
    for furniture in [
        "TONTON",
        "Sumber",
        "vietnamnet",
        "Komentar",
        "Bagikan",
        "Berita Terkait",
        "Advertisement",
        "Tags:",
        "Beranda",
        "Berlangganan",
    ] {
        assert!(
            !text.contains(furniture),
            "{furniture:?} leaked into the body"
        );
    }
    // The subheading stays, between its paragraphs.
    assert!(text.contains("\n\nTanda penting dalam diplomasi multilateral\n\n"));
    // Paragraphs are separated by exactly one blank line.
    assert!(!text.contains("\n\n\n"));
}

#[test]
fn metadata() {
    let a = run(&fixture("sample-id.html"), URL, None).article;
    assert_eq!(
        a.title.as_deref(),
        Some("Jejak Vietnam di Majelis Umum PBB dan nama Konvensi Hanoi")
    );
    // `<html lang="en">` is the template's default; the text is Indonesian.
    assert_eq!(a.language.as_deref(), Some("id"));
    assert_eq!(a.authors, vec!["Dewi Lestari"]);
    assert_eq!(
        a.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2025-10-21T09:15:00+07:00")
    );
    assert_eq!(a.site_name.as_deref(), Some("Kabar Nusantara"));
    assert_eq!(a.canonical_url.as_deref(), Some(URL));
    assert_eq!(a.kind, PageKind::Article);
    assert!(a.description.is_some());
}

#[test]
fn attribution_becomes_a_source_link() {
    let ex = run(&fixture("sample-id.html"), URL, None);
    assert_eq!(ex.article.source_links, vec![SOURCE.to_string()]);
    assert!(
        ex.links
            .iter()
            .any(|l| l.kind == LinkKind::Source && l.url.as_str() == SOURCE)
    );
}

#[test]
fn every_hyperlink_and_the_feed_are_still_links() {
    let ex = run(&fixture("sample-id.html"), URL, None);
    let page: Vec<&str> = ex
        .links
        .iter()
        .filter(|l| l.kind == LinkKind::Page)
        .map(|l| l.url.as_str())
        .collect();
    // Navigation, share, related and footer links are all discovered.
    for want in [
        "https://kabar-nusantara.example/nasional/",
        "https://kabar-nusantara.example/internasional/asean-perkuat-kerja-sama-siber",
        "https://kabar-nusantara.example/kontak",
        "https://www.facebook.com/sharer/sharer.php?u=x",
        SOURCE,
    ] {
        assert!(page.contains(&want), "missing page link {want}");
    }
    assert!(ex.links.iter().any(|l| l.kind == LinkKind::Feed
        && l.url.as_str() == "https://kabar-nusantara.example/feed/internasional.xml"));
}
