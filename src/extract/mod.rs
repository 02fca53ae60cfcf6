//! Extraction: HTML text in, owned article and links out.
//!
//! Everything here is synchronous and owns its results: a `scraper::Html` is
//! not `Send`, so no DOM ever crosses an `.await`. The crawler runs these
//! functions on its CPU pool; `palimpsest extract` runs them on files
//! (see [`command`]).
//!
//! Layers, each falling through to the next: a site [`Profile`] (CSS
//! selectors from the seed file); structured data (JSON-LD, OpenGraph,
//! `article:*`, microdata, `<time>`); generic main-content detection
//! (`content.rs`). Attribution lines become source links (`source.rs`).

mod authors;
mod cards;
pub mod command;
mod content;
mod date;
mod dom;
mod fields;
mod front;
mod lang;
mod lead;
mod meta;
mod nesting;
mod paragraphs;
mod prep;
mod profile;
mod published;
mod source;
mod text;
mod unclosed;
mod witness;

pub use profile::{Profile, ProfileError, ProfileSpec};

use rustc_hash::FxHashMap;
use scraper::Html;
use url::Url;

use crate::article::{Article, PageKind};
use crate::canonical::CanonicalUrl;
use content::{Block, BlockKind};
use dom::Flat;
use meta::Meta;
use source::Sources;
use text::{clean_inline, join_paragraphs, weight};

/// What a link on a page is to the crawler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// An ordinary hyperlink, followed within scope.
    Page,
    /// A page the article names as its source, followed off-site.
    Source,
    /// An RSS/Atom feed the page advertises.
    Feed,
}

/// A link found on a page, already canonical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Where it leads.
    pub url: CanonicalUrl,
    /// What kind of link it is: a page link, a cited source, or a feed.
    pub kind: LinkKind,
}

/// The result of extracting one page.
#[derive(Debug, Clone, Default)]
pub struct Extraction {
    /// The article: text, metadata and the page's kind.
    pub article: Article,
    /// The page's outgoing links: pages, cited sources and feeds.
    pub links: Vec<Link>,
}

/// Extracts the article and the outgoing links of one HTML page.
/// `url` is the page's final URL (after redirects), against which relative
/// links resolve unless the page has a `<base href>`.
///
/// Never panics, whatever the input; a page with no article yields an
/// `Article` with empty text and `kind: page`.
pub fn extract(html: &str, url: &Url, profile: Option<&Profile>) -> Extraction {
    let attributes = match profile {
        Some(_) => prep::Attributes::All,
        None => prep::Attributes::Read,
    };
    let prepared = prep::prepare(html, attributes);
    let doc = Html::parse_document(&prepared.html);
    let flat = Flat::new(&doc, &prepared.moved);
    if flat.nodes.is_empty() {
        return Extraction::default();
    }
    let base = base_url(&flat, url);
    let meta = meta::collect(&flat, &prepared.jsonld);
    let mut links = page_links(&flat, &base);
    let an = content::analyze(&flat);

    // Site name and canonical URL first: the title needs the former.
    let site_name = site_name(&meta);
    let join = |h: &str| CanonicalUrl::join(&base, h).ok();
    let canonical = meta
        .canonical_href
        .as_deref()
        .and_then(join)
        .or_else(|| meta.tag("og:url").and_then(join));

    // Candidate headlines: `<h1>`s outside navigation, those inside the
    // article container first, then the nearest one before it.
    let roots = content::choose(&flat, &an);
    let h1s = headline_candidates(&flat, an.body, roots.first().copied());
    let title = pick_headline(&meta, &h1s, url, site_names(&meta, site_name.as_ref(), url));

    // Body: generic detection, JSON-LD `articleBody` when it is the more
    // complete, then the profile.
    let mut blocks = render_container(&flat, &an, &roots);
    if let Some(ld_blocks) = ld_body_blocks(&meta, &blocks) {
        blocks = ld_blocks;
    }
    let mut found = ProfileFields {
        title,
        ..ProfileFields::default()
    };
    if let Some(p) = profile {
        found = apply_profile(p, &flat, found, &mut blocks);
    }
    let ProfileFields {
        title,
        mut authors,
        mut published,
        modified,
    } = found;

    // Attribution lines leave the body and become source links.
    let mut sources = take_attributions(&mut blocks, &base);
    if authors.is_empty() {
        authors = authors::pick_authors(&flat, &meta);
    }
    let generic_body = profile.is_none_or(|p| p.body.is_none());
    if generic_body {
        attributions_around(&flat, &an, &base, &mut sources);
    }
    let mut blocks = content::filter(blocks, title.as_deref(), &authors);
    if generic_body {
        blocks = as_the_page_says(blocks, &flat, &meta, title.as_deref(), roots.first());
    }
    // Language: the stop words of the prose test need it, and so does
    // visible-date parsing.
    let claim = language_claim(&meta);
    let reading = lang::read(
        claim.as_deref(),
        &language_sample(&blocks, title.as_deref(), &meta),
    );
    let language = reading.decided;
    let blocks = prose_filter(blocks, claim.as_deref(), reading.detected);
    let text_body = join_paragraphs(blocks.iter().map(|b| b.text.as_str()));

    if published.is_none() {
        published = published::pick_published(&flat, &meta, &an, url, language.as_deref(), html);
    }
    let (published, modified) = settle_dates(&meta, published, modified);

    metadata_sources(&meta, canonical.as_ref(), url, &base, &mut sources);
    links.extend(sources.iter().map(|u| Link {
        url: u.clone(),
        kind: LinkKind::Source,
    }));

    let kind = decide_kind(
        &meta,
        &blocks,
        &text_body,
        url,
        published.is_some(),
        !h1s.is_empty(),
    );
    let article = Article {
        canonical_url: canonical.map(|c| c.to_string()),
        title: title.filter(|t| !t.is_empty()),
        authors,
        published,
        modified,
        language,
        site_name,
        description: description(&meta),
        text: text_body,
        source_links: sources.iter().map(|u| u.to_string()).collect(),
        kind,
        headlines: match kind {
            PageKind::Page => front::headlines(&flat, &base),
            PageKind::Article => Vec::new(),
        },
    };
    Extraction { article, links }
}

/// The container's blocks, without the runs of teaser cards and reader
/// comments inside it.
fn render_container(flat: &Flat<'_>, an: &content::Analysis, roots: &[usize]) -> Vec<Block> {
    let mut junk = an.junk.clone();
    for &root in roots {
        cards::mark(flat, an, root, &mut junk);
    }
    content::render(flat, roots, Some(&junk))
}

/// Attribution lines often sit just outside the article container (after
/// it, in a box of their own): they are looked for in the rest of the page.
fn attributions_around(flat: &Flat<'_>, an: &content::Analysis, base: &Url, sources: &mut Sources) {
    let rest = content::render(flat, &[an.body], Some(&an.junk));
    for urls in rest.iter().filter_map(|b| source::attribution(b, base)) {
        sources.extend(urls.iter().cloned());
    }
}

/// The body as the page's own words about it have it: without the
/// paragraphs its `articleBody` does not hold, and opening with the lead
/// its description repeats.
fn as_the_page_says(
    blocks: Vec<Block>,
    flat: &Flat<'_>,
    meta: &Meta,
    title: Option<&str>,
    container: Option<&usize>,
) -> Vec<Block> {
    let mut blocks = witness::keep_witnessed(blocks, meta.ld.body.as_deref());
    if let (Some(desc), Some(&container)) = (description(meta), container)
        && let Some(lead) = lead::find(flat, &desc, title, container, &blocks)
    {
        blocks.insert(0, lead);
    }
    blocks
}

/// The site's own name, as its metadata gives it.
fn site_name(meta: &Meta) -> Option<String> {
    meta.tag("og:site_name")
        .or_else(|| meta.tag("application-name"))
        .map(str::to_string)
        .or_else(|| meta.ld.publisher.clone())
        .filter(|s| !s.is_empty())
}

/// The page's summary, as its metadata gives it.
fn description(meta: &Meta) -> Option<String> {
    meta.tag("og:description")
        .or_else(|| meta.tag("description"))
        .or_else(|| meta.tag("twitter:description"))
        .map(str::to_string)
        .or_else(|| meta.ld.description.clone())
        .filter(|d| !d.is_empty())
}

/// The names a title may carry as a suffix or prefix: the site's, its
/// publisher's, and the host's (`example` and `example.com`).
fn site_names(meta: &Meta, site_name: Option<&String>, url: &Url) -> Vec<String> {
    let mut names: Vec<String> = site_name.into_iter().cloned().collect();
    if let Some(p) = &meta.ld.publisher {
        names.push(p.clone());
    }
    if let Some(host) = url.host_str() {
        let key = source::site_key(host);
        if let Some(label) = key.split('.').next() {
            names.push(label.to_string());
        }
        names.push(key);
    }
    names
}

/// The headline, from the `<h1>` candidates and the metadata titles.
fn pick_headline(
    meta: &Meta,
    h1s: &[String],
    url: &Url,
    site_names: Vec<String>,
) -> Option<String> {
    let meta_titles: Vec<String> = [
        meta.ld.headline.as_deref(),
        meta.micro.headline.as_deref(),
        meta.tag("og:title"),
        meta.tag("twitter:title"),
    ]
    .into_iter()
    .flatten()
    .map(clean_inline)
    .filter(|t| !t.is_empty())
    .collect();
    let slug = fields::slug_words(url);
    fields::pick_title(&fields::TitleSources {
        h1s,
        meta_titles: &meta_titles,
        html_title: meta.html_title.as_deref(),
        site_names: &site_names,
        slug: &slug,
    })
}

/// What a site profile's selectors say, over what was found without it.
#[derive(Default)]
struct ProfileFields {
    title: Option<String>,
    authors: Vec<String>,
    published: Option<chrono::DateTime<chrono::FixedOffset>>,
    modified: Option<chrono::DateTime<chrono::FixedOffset>>,
}

/// Applies a site profile: its title, body, authors and dates win where
/// they match.
fn apply_profile(
    p: &Profile,
    flat: &Flat<'_>,
    mut found: ProfileFields,
    blocks: &mut Vec<Block>,
) -> ProfileFields {
    if let Some(sel) = &p.title
        && let Some(t) = profile::matches(flat, sel)
            .into_iter()
            .map(|i| clean_inline(&flat.text_of(i)))
            .find(|t| !t.is_empty())
    {
        found.title = Some(t);
    }
    if let Some(sel) = &p.body {
        let roots = profile::matches(flat, sel);
        // Nested matches would render twice: keep outermost ones.
        let roots: Vec<usize> = roots
            .iter()
            .copied()
            .filter(|&r| !roots.iter().any(|&o| o < r && r < flat.nodes[o].end))
            .collect();
        let excluded = profile::excluded(flat, &p.exclude);
        let b = content::render(flat, &roots, Some(&excluded));
        if b.iter().any(|b| !b.text.is_empty()) {
            *blocks = b;
        }
    }
    if let Some(sel) = &p.authors {
        let named: Vec<String> = profile::matches(flat, sel)
            .into_iter()
            .flat_map(|i| fields::clean_authors(&flat.text_of(i)))
            .collect();
        found.authors = authors::dedup(named);
    }
    found.published = p
        .published
        .as_ref()
        .and_then(|s| date_from_selector(flat, s));
    found.modified = p
        .modified
        .as_ref()
        .and_then(|s| date_from_selector(flat, s));
    found
}

/// Removes the attribution lines from `blocks`; returns the sources they name.
fn take_attributions(blocks: &mut Vec<Block>, base: &Url) -> Sources {
    let mut sources = Sources::default();
    blocks.retain(|b| match source::attribution(b, base) {
        Some(urls) => {
            sources.extend(urls.iter().cloned());
            false
        }
        None => true,
    });
    sources
}

/// The language the page claims for itself, if any.
fn language_claim(meta: &Meta) -> Option<String> {
    meta.html_lang
        .clone()
        .or_else(|| meta.tag("content-language").map(str::to_string))
        .or_else(|| meta.tag("og:locale").map(str::to_string))
        .or_else(|| meta.ld.language.clone())
        .or_else(|| meta.tag("language").map(str::to_string))
}

/// What the language detector reads: the start of the text, which the
/// prose test (it drops lines past the last paragraph of prose) leaves
/// alone, so one reading serves both; a short text gets the title and
/// description too.
fn language_sample(blocks: &[Block], title: Option<&str>, meta: &Meta) -> String {
    let start = text_start(blocks, lang::SAMPLE_BYTES);
    if blocks.iter().map(Block::weight).sum::<usize>() >= 60 {
        return start;
    }
    format!(
        "{} {} {}",
        title.unwrap_or(""),
        meta.tag("og:description")
            .or_else(|| meta.tag("description"))
            .unwrap_or(""),
        start
    )
}

/// The publication and modification dates as kept: a modification date from
/// metadata when none was found, both in the publisher's local time, and no
/// modification before the publication.
fn settle_dates(
    meta: &Meta,
    mut published: Option<chrono::DateTime<chrono::FixedOffset>>,
    modified: Option<chrono::DateTime<chrono::FixedOffset>>,
) -> (
    Option<chrono::DateTime<chrono::FixedOffset>>,
    Option<chrono::DateTime<chrono::FixedOffset>>,
) {
    let mut modified = modified.or_else(|| meta_modified(meta));
    in_local_time(meta, &mut published);
    in_local_time(meta, &mut modified);
    if let (Some(p), Some(m)) = (published, modified)
        && m < p
    {
        modified = None;
    }
    (published, modified)
}

/// The modification date that structured data or meta tags give.
fn meta_modified(meta: &Meta) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    meta.ld
        .modified
        .or(meta.micro.modified)
        .or_else(|| {
            [
                "article:modified_time",
                "og:updated_time",
                "article:modified",
                "modified_time",
                "datemodified",
                "last-modified",
                "dcterms.modified",
                "parsely-updated",
            ]
            .iter()
            .find_map(|k| meta.tag(k).and_then(date::parse_machine))
        })
        .or(meta.ld.page_modified)
}

/// Metadata often states the instant in UTC while the page's `<time>`
/// gives the same instant in the publisher's own zone: keep the local
/// form, whose calendar day is the one readers see.
fn in_local_time(meta: &Meta, date: &mut Option<chrono::DateTime<chrono::FixedOffset>>) {
    if let Some(v) = *date
        && let Some(local) = meta
            .times
            .iter()
            .filter_map(|(s, _)| date::parse_machine(s))
            .find(|t| *t == v && t.offset() != v.offset())
    {
        *date = Some(local);
    }
}

/// Sources that metadata names: a canonical URL on another site, and
/// syndication links (`dc.source`, `isBasedOn`…) other than the page itself.
fn metadata_sources(
    meta: &Meta,
    canonical: Option<&CanonicalUrl>,
    url: &Url,
    base: &Url,
    sources: &mut Sources,
) {
    if let Some(c) = canonical
        && let Some(host) = url.host_str()
        && source::is_cross_domain(c.host(), host)
    {
        sources.add(c.clone());
    }
    let itself = CanonicalUrl::parse(url.as_str()).ok();
    let syndication = meta
        .link_sources
        .iter()
        .map(String::as_str)
        .chain(meta.ld.based_on.iter().map(String::as_str))
        .chain(
            [
                "syndication-source",
                "original-source",
                "dc.source",
                "dcterms.source",
                "article:original_url",
            ]
            .iter()
            .flat_map(|k| meta.tag_all(k).iter().map(String::as_str)),
        );
    for s in syndication {
        if sources.is_full() {
            return;
        }
        if let Ok(u) = CanonicalUrl::join(base, s)
            && Some(u.as_str()) != itself.as_ref().map(|x| x.as_str())
        {
            sources.add(u);
        }
    }
}

/// Drops the headings that open the page's tail ("Weitere Beiträge",
/// "Más sobre…"): after the last paragraph of prose, a heading that the
/// prose test finds bad and whose level the article's own outline never
/// used before. The stop words are those of the claimed and the detected
/// language.
fn prose_filter(blocks: Vec<Block>, claim: Option<&str>, detected: Option<&str>) -> Vec<Block> {
    if !blocks
        .iter()
        .any(|b| matches!(b.kind, BlockKind::Heading(_)))
    {
        return blocks;
    }
    let stop = stop_words(claim, detected);
    paragraphs::trim_tail_headings(blocks, &stop)
}

/// The stop words of the markup's language claim and of the language the
/// detector reads.
fn stop_words(claim: Option<&str>, detected: Option<&str>) -> paragraphs::StopWords {
    let claimed = claim.and_then(lang::normalize_tag);
    paragraphs::StopWords::for_languages(claimed.as_deref().into_iter().chain(detected))
}

/// The blocks' text joined as the body is, up to about `limit` bytes.
fn text_start(blocks: &[Block], limit: usize) -> String {
    let mut n = 0;
    let taken = blocks.iter().take_while(|b| {
        let more = n <= limit;
        n += b.text.len() + 2;
        more
    });
    join_paragraphs(taken.map(|b| b.text.as_str()))
}

fn headline_candidates(flat: &Flat<'_>, body: usize, container: Option<usize>) -> Vec<String> {
    let in_furniture = |i: usize| {
        flat.ancestors(i)
            .take_while(|&(a, _)| a > body)
            .any(|(_, n)| {
                matches!(n.tag(), "nav" | "footer" | "aside" | "form" | "menu")
                    || n.attr("role")
                        .is_some_and(|r| r == "navigation" || r == "banner")
            })
    };
    let h1s: Vec<usize> = (body + 1..flat.nodes.len())
        .filter(|&i| flat.nodes[i].tag() == "h1" && !in_furniture(i))
        .take(10)
        .collect();
    let mut ordered: Vec<usize> = Vec::new();
    if let Some(c) = container {
        let end = flat.nodes[c].end;
        ordered.extend(h1s.iter().copied().filter(|&i| i > c && i < end));
        if let Some(&before) = h1s.iter().rev().find(|&&i| i < c) {
            ordered.push(before);
        }
    }
    for i in h1s {
        if !ordered.contains(&i) {
            ordered.push(i);
        }
    }
    ordered
        .into_iter()
        .map(|i| clean_inline(&flat.text_of(i)))
        .filter(|t| !t.is_empty())
        .collect()
}

fn base_url(flat: &Flat<'_>, url: &Url) -> Url {
    flat.nodes
        .iter()
        .filter(|n| n.tag() == "base")
        .find_map(|n| n.attr("href"))
        .and_then(|h| url.join(h.trim()).ok())
        .unwrap_or_else(|| url.clone())
}

fn page_links(flat: &Flat<'_>, base: &Url) -> Vec<Link> {
    let mut out = Vec::new();
    let mut feeds = Vec::new();
    // Pages link the same href many times (menus, teasers, share bars):
    // each is resolved once.
    let mut resolved: FxHashMap<&str, Option<CanonicalUrl>> = FxHashMap::default();
    for n in &flat.nodes {
        match n.tag() {
            "a" | "area" => {
                if let Some(href) = n.attr("href")
                    && let Some(url) = resolved
                        .entry(href)
                        .or_insert_with(|| CanonicalUrl::join(base, href).ok())
                {
                    out.push(Link {
                        url: url.clone(),
                        kind: LinkKind::Page,
                    });
                }
            }
            "link" => {
                let rel = n.attr("rel").unwrap_or("").to_ascii_lowercase();
                let ty = n.attr("type").unwrap_or("").trim().to_ascii_lowercase();
                if rel.split_whitespace().any(|r| r == "alternate")
                    && matches!(ty.as_str(), "application/rss+xml" | "application/atom+xml")
                    && let Some(href) = n.attr("href")
                    && let Ok(url) = CanonicalUrl::join(base, href)
                {
                    feeds.push(Link {
                        url,
                        kind: LinkKind::Feed,
                    });
                }
            }
            _ => {}
        }
    }
    out.extend(feeds);
    out
}

/// JSON-LD `articleBody` replaces the generic result only when it is
/// complete (sites often truncate it to a teaser) and clearly longer.
fn ld_body_blocks(meta: &Meta, dom_blocks: &[Block]) -> Option<Vec<Block>> {
    let body = meta.ld.body.as_deref()?.trim();
    let truncated = body.ends_with('…') || body.ends_with("...") || body.ends_with("[…]");
    let ld_w = weight(body);
    if truncated || ld_w < 400 {
        return None;
    }
    let dom_w: usize = dom_blocks.iter().map(|b| b.weight()).sum();
    if (dom_w as f32) > 0.6 * ld_w as f32 {
        return None;
    }
    let blocks: Vec<Block> = if body.contains('<') && body.contains('>') {
        // Markup from JSON gets the same guards as the page's own.
        let prepared = prep::prepare(body, prep::Attributes::Read);
        let frag = Html::parse_fragment(&prepared.html);
        let flat = Flat::new(&frag, &prepared.moved);
        content::render(&flat, &[0], None)
    } else {
        let decoded = text::decode_entities(body);
        decoded
            .split('\n')
            .map(clean_inline)
            .filter(|p| !p.is_empty())
            .map(|text| Block::new(text, BlockKind::Para, Vec::new(), 0))
            .collect()
    };
    (!blocks.is_empty()).then_some(blocks)
}

fn date_from_selector(
    flat: &Flat<'_>,
    sel: &scraper::Selector,
) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    profile::matches(flat, sel).into_iter().find_map(|i| {
        let n = &flat.nodes[i];
        n.attr("datetime")
            .or_else(|| n.attr("content"))
            .and_then(date::parse_machine)
            .or_else(|| date::parse_visible(&flat.text_spaced(i), None))
    })
}

/// `article` or `page`, from structure and metadata together; the URL is
/// one weak hint among several.
fn decide_kind(
    meta: &Meta,
    blocks: &[Block],
    text: &str,
    url: &Url,
    has_date: bool,
    has_headline: bool,
) -> PageKind {
    let mut score = 0.0f32;
    let article_ld = meta.ld.found || meta.micro.found;
    if article_ld {
        score += 3.0;
    }
    match meta.tag("og:type").map(str::to_ascii_lowercase).as_deref() {
        Some("article") | Some("news") | Some("blog") => score += 2.0,
        Some("website") | Some("profile") | Some("book") | Some("video.other") => score -= 1.0,
        _ => {}
    }
    if meta.tag("article:published_time").is_some() {
        score += 1.0;
    }
    if has_date {
        score += 0.5;
    }
    let listing = meta.ld_types.iter().any(|t| {
        matches!(
            t.as_str(),
            "CollectionPage"
                | "ItemList"
                | "SearchResultsPage"
                | "ProfilePage"
                | "AboutPage"
                | "ContactPage"
                | "FAQPage"
        )
    });
    if listing && !article_ld {
        score -= 3.0;
    }
    let w = weight(text);
    let paras = blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Para && b.weight() >= 80)
        .count();
    // Structure: running prose under a headline is an article even with no
    // metadata at all.
    if w >= 1500 && paras >= 4 {
        score += 2.0;
    } else if w >= 500 && paras >= 3 {
        score += 1.5;
    } else if w >= 300 && paras >= 2 {
        score += 0.5;
    } else if w < 200 {
        score -= 2.0;
    }
    if has_headline {
        score += 0.5;
    }
    let path = url.path().trim_end_matches('/');
    if path.is_empty() {
        score -= 2.0;
    } else if path.split('/').filter(|s| !s.is_empty()).count() == 1 && path.len() < 20 {
        score -= 0.5;
    }
    if score >= 2.0 {
        PageKind::Article
    } else {
        PageKind::Page
    }
}

/// The prose method alone, for measuring it against the container method
/// (`examples/extract_eval.rs --prose-only`): every block of the page's
/// body that the prose test finds good.
#[doc(hidden)]
pub fn prose_only(html: &str) -> String {
    let prepared = prep::prepare(html, prep::Attributes::Read);
    let doc = Html::parse_document(&prepared.html);
    let flat = Flat::new(&doc, &prepared.moved);
    if flat.nodes.is_empty() {
        return String::new();
    }
    let meta = meta::collect(&flat, &prepared.jsonld);
    let an = content::analyze(&flat);
    let blocks = page_prose(&flat, &an, meta.html_lang.as_deref());
    join_paragraphs(blocks.iter().map(|b| b.text.as_str()))
}

/// The good blocks of the whole body (scripts, styles and hidden templates
/// aside, no furniture removed), in the claimed or the detected language.
fn page_prose(flat: &Flat<'_>, an: &content::Analysis, claim: Option<&str>) -> Vec<Block> {
    let blocks = content::render(flat, &[an.body], None);
    let detected = lang::read(claim, &text_start(&blocks, lang::SAMPLE_BYTES)).detected;
    let stop = stop_words(claim, detected);
    let class = paragraphs::classify(&blocks, &stop);
    blocks
        .into_iter()
        .zip(class)
        .filter(|(_, c)| *c == paragraphs::Class::Good)
        .map(|(b, _)| b)
        .collect()
}

/// A tuning aid for `examples/extract_eval.rs`: the best-scoring candidate
/// containers and the ones chosen, with their class, id and text weights.
#[doc(hidden)]
pub fn debug_candidates(html: &str) -> String {
    use std::fmt::Write as _;
    let prepared = prep::prepare(html, prep::Attributes::Read);
    let doc = Html::parse_document(&prepared.html);
    let flat = Flat::new(&doc, &prepared.moved);
    let an = content::analyze(&flat);
    let mut order: Vec<usize> = (0..flat.nodes.len())
        .filter(|&i| an.score[i] > 0.0)
        .collect();
    order.sort_by(|&a, &b| an.score[b].total_cmp(&an.score[a]));
    let mut out = String::new();
    let describe = |i: usize| {
        let n = &flat.nodes[i];
        format!(
            "#{i} <{} class={:?} id={:?}> score={:.1} text={} links={} junk={}",
            n.tag(),
            n.attr("class").unwrap_or(""),
            n.attr("id").unwrap_or(""),
            an.score[i],
            an.text_w[i],
            an.link_w[i],
            an.junk[i]
        )
    };
    for &i in order.iter().take(8) {
        let _ = writeln!(out, "cand {}", describe(i));
    }
    for i in 0..flat.nodes.len() {
        let p = flat.nodes[i].parent;
        let top_junk = an.junk[i] && (p == usize::MAX || !an.junk[p]);
        let w: usize = (i..flat.nodes[i].end)
            .filter(|&j| flat.nodes[j].is_text())
            .map(|j| weight(flat.nodes[j].text))
            .sum();
        if top_junk && w > 300 {
            let _ = writeln!(out, "junk {} raw={w}", describe(i));
        }
    }
    for i in content::choose(&flat, &an) {
        let _ = writeln!(out, "chosen {}", describe(i));
        for (a, _) in flat.ancestors(i) {
            let _ = writeln!(out, "   in {}", describe(a));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_against_base_and_feeds_are_found() {
        let html = r#"<html><head><title> A  page </title><base href="http://a.test/dir/">
            <link rel="alternate" type="application/rss+xml" href="/feed.xml"></head>
            <body><a href="x.html#f">x</a><a href="mailto:a@b">m</a><p>Hello  world</p></body></html>"#;
        let url = Url::parse("http://a.test/").unwrap();
        let ex = extract(html, &url, None);
        assert_eq!(ex.article.title.as_deref(), Some("A page"));
        assert_eq!(ex.article.text, "Hello world");
        let urls: Vec<_> = ex.links.iter().map(|l| (l.url.as_str(), l.kind)).collect();
        assert_eq!(
            urls,
            vec![
                ("http://a.test/dir/x.html", LinkKind::Page),
                ("http://a.test/feed.xml", LinkKind::Feed)
            ]
        );
    }
}
