//! Text clean-up shared by every layer: Unicode NFC, whitespace, leftover
//! entities, and the recognisers for lines that are page furniture rather
//! than article text ("watch the video", "read more", share and newsletter
//! prompts…) in the languages the crawler meets.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// NFC, leftover entities decoded, invisible characters dropped and
/// whitespace collapsed to single spaces.
pub(crate) fn clean_inline(s: &str) -> String {
    let mut decoded = if s.contains('&') {
        Cow::Owned(decode_entities(s))
    } else {
        Cow::Borrowed(s)
    };
    let repaired = match repair_mojibake(&decoded) {
        Cow::Owned(r) => Some(r),
        Cow::Borrowed(_) => None,
    };
    if let Some(r) = repaired {
        decoded = Cow::Owned(r);
    }
    // Composing is costly and most text is already NFC (ASCII always is):
    // collapsing checks as it goes, and starts again composed at the first
    // character that may not be.
    collapse_composed(&decoded).unwrap_or_else(|| {
        let mut out = Collapsed::with_capacity(decoded.len());
        decoded.nfc().for_each(|c| out.push(c));
        out.text
    })
}

/// Text with whitespace runs collapsed to one space (none at the ends) and
/// invisible characters dropped, built a character at a time.
struct Collapsed {
    text: String,
    pending_space: bool,
}

impl Collapsed {
    fn with_capacity(capacity: usize) -> Self {
        Collapsed {
            text: String::with_capacity(capacity),
            pending_space: false,
        }
    }

    /// Visible characters, none of them space.
    fn push_visible(&mut self, run: &str) {
        if run.is_empty() {
            return;
        }
        self.space_if_pending();
        self.text.push_str(run);
    }

    #[inline]
    fn push(&mut self, c: char) {
        if c.is_whitespace() {
            self.pending_space = !self.text.is_empty();
            return;
        }
        // Zero-width characters and soft hyphens are layout hints, and the
        // replacement/control characters are decoding debris.
        if matches!(
            c,
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}' | '\u{fffd}'
        ) || c.is_control()
        {
            return;
        }
        self.space_if_pending();
        self.text.push(c);
    }

    /// The one space a run of whitespace between words became.
    fn space_if_pending(&mut self) {
        if self.pending_space {
            self.text.push(' ');
            self.pending_space = false;
        }
    }
}

/// `s` collapsed, copying runs of visible ASCII whole (most text on most
/// pages is ASCII, and decoding it cost more than the work); `None` at the
/// first character NFC might change: a combining mark, or one whose quick
/// check is not a plain yes.
fn collapse_composed(s: &str) -> Option<String> {
    use unicode_normalization::{IsNormalized, char::canonical_combining_class, is_nfc_quick};
    let mut out = Collapsed::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut run = 0; // where the visible ASCII not yet copied starts
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii_graphic() {
            i += 1;
            continue;
        }
        out.push_visible(&s[run..i]);
        if b.is_ascii() {
            out.push(char::from(b));
            i += 1;
        } else {
            let c = s[i..].chars().next()?;
            if canonical_combining_class(c) != 0
                || is_nfc_quick(std::iter::once(c)) != IsNormalized::Yes
            {
                return None;
            }
            out.push(c);
            i += c.len_utf8();
        }
        run = i;
    }
    out.push_visible(&s[run..]);
    Some(out.text)
}

/// Bytes 0x80–0x9F as Windows-1252 shows them.
const CP1252_80_9F: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

/// The byte a character stands for when UTF-8 was misread as Windows-1252
/// or Latin-1 (whose C1 controls stand for themselves).
fn misread_byte(c: char) -> Option<u8> {
    match u8::try_from(u32::from(c)) {
        Ok(b) if b >= 0x80 => Some(b),
        Ok(_) => None,
        Err(_) => CP1252_80_9F
            .iter()
            .position(|&h| h == c)
            .and_then(|i| u8::try_from(0x80 + i).ok()),
    }
}

/// The character that the start of `s` spells as misread UTF-8 bytes, and
/// how many bytes of `s` that takes.
fn misread_char(s: &str) -> Option<(char, usize)> {
    let mut chars = s.chars();
    let first = chars.next()?;
    let lead = misread_byte(first)?;
    let len = match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let mut buf = [lead, 0, 0, 0];
    let mut used = first.len_utf8();
    for slot in buf.iter_mut().take(len).skip(1) {
        let c = chars.next()?;
        *slot = misread_byte(c).filter(|b| (0x80..=0xBF).contains(b))?;
        used += c.len_utf8();
    }
    let c = std::str::from_utf8(&buf[..len]).ok()?.chars().next()?;
    // Misread two-byte sequences are Latin letters and signs; anything
    // else ("ß“" spelling U+07D3) is real text that happens to fit.
    let plausible = if len == 2 {
        (0x80..=0x24F).contains(&u32::from(c))
    } else {
        !c.is_control() && !('\u{e000}'..='\u{f8ff}').contains(&c)
    };
    plausible.then_some((c, used))
}

/// A character that can start a misread UTF-8 sequence ("Â", "Ã", "â"…).
fn misread_lead(c: char) -> bool {
    ('\u{c2}'..='\u{f4}').contains(&c)
}

/// Repairs text whose UTF-8 was read as Windows-1252 or Latin-1 somewhere
/// upstream, as some publishing systems do to every apostrophe ("Itâ€™s",
/// "cafÃ©"). Text without such sequences comes back untouched.
pub(crate) fn repair_mojibake(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() {
        return std::borrow::Cow::Borrowed(s);
    }
    // Every lead character (U+00C2..U+00F4) starts with the byte 0xC3.
    let found = s.bytes().enumerate().any(|(i, b)| {
        b == 0xC3
            && s[i..].chars().next().is_some_and(misread_lead)
            && misread_char(&s[i..]).is_some()
    });
    if !found {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(c) = s[i..].chars().next() {
        match misread_char(&s[i..]).filter(|_| misread_lead(c)) {
            Some((fixed, used)) => {
                out.push(fixed);
                i += used;
            }
            None => {
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Decodes the entities a page double-escaped (`&amp;amp;` shows as
/// `&amp;`) or that sit in JSON-LD and meta attributes verbatim.
pub(crate) fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        let end = rest[1..]
            .char_indices()
            .take(12)
            .find(|&(_, c)| c == ';' || c == '&' || c.is_whitespace())
            .map(|(i, c)| (i + 1, c));
        if let Some((semi, ';')) = end {
            let name = &rest[1..semi];
            if let Some(c) = entity(name) {
                out.push(c);
                rest = &rest[semi + 1..];
                continue;
            }
        }
        out.push('&');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = if let Some(hex) = num.strip_prefix(['x', 'X']) {
            u32::from_str_radix(hex, 16).ok()?
        } else {
            num.parse::<u32>().ok()?
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "hellip" => '…',
        "laquo" => '«',
        "raquo" => '»',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "middot" => '·',
        "bull" => '•',
        "eacute" => 'é',
        "egrave" => 'è',
        "aacute" => 'á',
        "agrave" => 'à',
        "iacute" => 'í',
        "oacute" => 'ó',
        "uacute" => 'ú',
        "ntilde" => 'ñ',
        "ccedil" => 'ç',
        "uuml" => 'ü',
        "ouml" => 'ö',
        "auml" => 'ä',
        "szlig" => 'ß',
        _ => return None,
    })
}

/// Joins paragraphs with exactly one blank line between them.
pub(crate) fn join_paragraphs<I: IntoIterator<Item = S>, S: AsRef<str>>(paras: I) -> String {
    let mut out = String::new();
    for p in paras {
        let p = p.as_ref().trim();
        if p.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(p);
    }
    out
}

/// Number of characters that are not whitespace: the unit of every length
/// threshold here, so that CJK text (no spaces) and Latin text compare.
pub(crate) fn weight(s: &str) -> usize {
    if s.is_ascii() {
        s.bytes().filter(|b| !b.is_ascii_whitespace()).count()
    } else {
        s.chars().filter(|c| !c.is_whitespace()).count()
    }
}

/// Lines that are page furniture, whatever their markup: prompts to watch a
/// video, read another article, share, subscribe, comment, download an app;
/// advertisement labels; copyright lines. Matched against a whole short
/// paragraph, so an article sentence that merely mentions a video survives.
static BOILERPLATE: LazyLock<Regex> = LazyLock::new(|| {
    let patterns = [
        // Video prompts: "TONTON VIDEONYA :", "WATCH: …", "Xem video: …".
        r"^(?:watch|tonton|saksikan|simak|xem|ver|mira|regarder|voir|guarda|assista|veja|schauen sie|sehen sie|смотрите|смотреть|观看|視聴)\s*(?:the\s+|juga\s+|lagi\s+|also\s+|our\s+)?(?:full\s+)?(?:video|videonya|videos|clip|vidéo|vídeo|видео|视频|動画|live|:|：).{0,80}$",
        r"^(?:video|videos|vídeo|vidéo|видео|视频|動画)\s*[:：|].{0,80}$",
        // Cross-links: "Read more", "Baca juga", "Xem thêm", "Lesen Sie auch".
        r"^(?:also read|read also|read next|read more|see also|more reading|further reading|baca juga|lihat juga|simak juga|baca selengkapnya|xem thêm|đọc thêm|tin liên quan|lesen sie (?:auch|mehr)|mehr zum thema|auch interessant|weiterlesen|zum weiterlesen|zobacz (?:także|też|również)|czytaj (?:także|też|również|więcej)|lire aussi|à lire aussi|voir aussi|lee también|leer más|ver también|te puede interesar|leia também|leia mais|veja também|leggi anche|читайте также|читайте еще|смотрите также|相关阅读|延伸阅读|関連記事|あわせて読みたい)(?:$|[^\w\n].{0,159})$",
        r"^(?:read|see|more|related|baca|lihat|xem|lesen|lire|leer|leia|leggi|читайте)\s*[:：].{0,160}$",
        r"^(?:related(?: articles| stories| posts| news| content| coverage| reading)?|more (?:stories|news|articles|on this|from)[^.]{0,60}|you may also like|you might also like|recommended for you|popular (?:posts|stories|now)|most (?:read|popular|viewed)|trending(?: now)?|editor'?s picks|top stories|berita terkait|artikel terkait|terpopuler|bài viết liên quan|tin cùng chuyên mục|das (?:thema )?könnte (?:dich|sie) auch interessieren|weitere (?:beiträge|artikel|themen)[^.]{0,40}|(?:contenidos?|artículos?|notas?) relacionad[oa]s?|powiązane artykuły|podobne artykuły|noticias relacionadas|articles? liés|notícias relacionadas|похожие новости|по теме)\s*[:：]?$",
        // Sharing and following.
        r"^(?:share|share this|share on|share article|share this (?:article|story|post)|bagikan|bagikan artikel ini|chia sẻ|teilen|compartir|compartilhe|compartilhar|partilhar|partager|condividi|udostępnij|paylaş|поделиться|分享|シェア|follow us|follow|ikuti kami|theo dõi|folgen sie uns|síguenos|suivez-nous|seguici|tweet|pin it|email|print|facebook|twitter|whatsapp|linkedin|telegram|copy link|salin tautan)(?:$|[^\w.!?][^.!?]{0,79})$",
        // Newsletters, apps, subscriptions, sign-ins.
        r"^(?:sign up|subscribe|support (?:us|our journalism|independent journalism)|zapisz się|subskrybuj|zapraszamy (?:też |także )?do (?:subskrypcji|prenumeraty)|wesprzyj nas|unterstützen sie (?:uns|unsere arbeit)|unterstütze (?:uns|unsere arbeit)|get (?:our|the) (?:newsletter|app)|join our|download (?:the|our) app|berlangganan|daftar|unduh aplikasi|đăng ký|tải ứng dụng|abonnieren|jetzt abonnieren|newsletter|suscríbete|suscribirse|abonnez-vous|inscreva-se|assine|iscriviti|подпишитесь|订阅|登録)(?:$|[^\w\n].{0,159})$",
        r"(?:newsletter|subscribe to our|sign up for our|delivered to your inbox|in your inbox)(?:$|[^\w\n].{0,99})$",
        // Advertisement labels.
        r"^(?:advertisement|advertisements|advertising|sponsored|sponsored content|ad|ads|anzeige|werbung|iklan|quảng cáo|publicidad|publicité|pubblicità|publicidade|реклама|广告|広告|scroll to continue(?: with content)?|continue reading(?: below)?|story continues below(?: advertisement)?|article continues below(?: advertisement)?)\s*[:：.]?$",
        // Comment sections: "Comments (3)", "Komentar (0)", "Bình luận".
        r"^(?:\d+\s+)?(?:comments?|komentar|bình luận|kommentare?|comentarios?|commentaires?|commenti|comentários|комментари[иейя]|评论|コメント)\s*(?:\(\d+\)|\d+)?\s*[:：]?$",
        r"^(?:leave a (?:comment|reply)|add a comment|post a comment|join the (?:conversation|discussion)|tulis komentar|viết bình luận|kommentar schreiben|deja un comentario|laisser un commentaire|view comments|show comments|load comments)(?:$|[^\w\n].{0,79})$",
        // Copyright and rights lines.
        r"^(?:©|\(c\)|copyright(?:$|\W)|all rights reserved|hak cipta|bản quyền|alle rechte vorbehalten|vervielfältigung nur mit (?:genehmigung|erlaubnis)|todos los derechos reservados|todos os direitos reservados|tous droits réservés|tutti i diritti riservati|wszelkie prawa zastrzeżone|alle rechten voorbehouden)",
        // Image credits that are nothing but a credit.
        r"^(?:photo|foto|image|picture|ảnh|bild|imagen|credit|credits|getty images|reuters|afp|ap photo)\s*[:：/].{0,80}$",
        // Tag lists and breadcrumbs.
        r"^(?:tags?|tagged|topics?|kategori|category|categories|thẻ|từ khóa|schlagworte|etiquetas|mots-clés|темы|标签)(?:\s*[:：].{0,200})?$",
        // Reading time, datelines, form and table-of-contents furniture.
        r"^(?:\d+\s*(?:min|mins|minutes?|menit|phút|minuten)\.?\s*(?:read|reading|lesezeit|baca|đọc)?|(?:reading time|lesezeit|waktu baca)\s*[:：]?.{0,20})$",
        r"^(?:last\s+)?(?:updated|published|posted|modified|reviewed|diperbarui|diterbitkan|cập nhật|aktualisiert|veröffentlicht|actualizado|publicado|mis à jour|publié|opublikowano|zaktualizowano|aktualizacja|pubblicato|aggiornato|gepubliceerd|bijgewerkt)(?:\s+(?:on|at|am|le|el|em|pada))?\s*[:：]?\s*[^.!?]{0,50}$",
        r"^(?:table of contents|contents|daftar isi|mục lục|inhaltsverzeichnis|índice|sommaire|tabla de contenidos|содержание|目录|目次)\s*[:：]?$",
        r"^(?:oops!? something went wrong.{0,80}|thank you!? your submission has been received!?|thanks for signing up.{0,60})$",
        // Picture credits at the end of a caption line.
        r"(?:^|[|.)]\s*|\s)(?:photo|photograph|photos|image|picture|credit|credits|photographer|foto|ảnh)s?\s*(?:by|credit|courtesy(?: of)?)?\s*[:：]\s*[^.|]{2,60}\.?$",
        r"(?:\||/|\(|\s)\s*(?:getty images|shutterstock|istock|unsplash|alamy|reuters|afp|ap photo)\)?\.?$",
        r"^(?:hide caption|toggle caption|show caption|end of article|enlarge this image)$",
        // Media players' placeholders and controls.
        r"^(?:your browser does not support|your browser doesn'?t support|ihr browser unterstützt (?:dieses|das|kein|keine)|su navegador no (?:admite|soporta|es compatible)|votre navigateur ne (?:prend pas en charge|supporte pas)|twoja przeglądarka nie obsługuje|il tuo browser non supporta|seu navegador não suporta).{0,30}(?:video|audio|html5|iframe|javascript|vídeo|vidéo|wideo|player|reproductor|lecteur).*$",
        r"^(?:(?:the )?(?:video|audio|player|media|das video|el vídeo|la vidéo|il video)\s+)?(?:is loading|loading|wird geladen|lädt|cargando|se está cargando|chargement(?: en cours)?|ładowanie|caricamento|carregando)(?:\s+(?:video|audio|player|the video|das video|el vídeo|la vidéo))?\s*(?:\.{3}|…)?$",
        r"^(?:listen to (?:this |the )?(?:article|story)|artikel (?:anhören|vorlesen lassen)|beitrag anhören|escucha(?:r)? (?:este |la |el )?(?:artículo|noticia)|écouter (?:cet |l')article|posłuchaj(?: artykułu)?|ascolta(?: l'articolo)?|ouvir (?:o |este )?artigo)(?:$|[^\w\n].{0,40})$",
        r"^\d{1,2}:\d{2}(?::\d{2})?\s*/\s*\d{1,2}:\d{2}(?::\d{2})?$",
        // Gallery controls and counters.
        r"^(?:image|photo|picture|slide|bild|foto|imagen|imagem|zdjęcie|immagine)\s*\d+\s*(?:of|von|de|sur|z|di|/)\s*\d+.*$",
        r"^(?:enlarge|zoom|vergrößern|bild vergrößern|ampliar|agrandir|powiększ|ingrandisci)(?:\s+(?:image|photo|picture|bild|foto|imagen|l'image|la photo|zdjęcie))?$",
        r"^(?:previous|next|vorheriges|nächstes|anterior|siguiente|précédente?|suivante?|poprzednie|następne)\s+(?:image|photo|picture|slide|bild|foto|imagen|zdjęcie)$",
        // Reviewer lines of health and product pages.
        r"^(?:(?:medically|clinically|expert) reviewed|fact[- ]checked) by\s[^,;:!?]{2,50}(?:,\s*(?:md|phd|ph\.d\.|rd|rn|do|mph|ms|ma))*\.?$",
        r"^reviewed by\s[^,;:!?]{2,40}(?:,\s*(?:md|phd|ph\.d\.|rd|rn|do|mph|ms|ma))*\.?$",
        r"^(?:medizinisch|fachlich) geprüft von\s..+$",
        r"^(?:revisado|verificado) (?:médicamente )?por\s[^,;:!?]{2,50}\.?$",
        // A line that is nothing but markup shown as text.
        r"^<[a-z][a-z0-9]*(?:[^\w>][^>]*)?>.*$",
        // Template placeholder text.
        r"^lorem ipsum dolor(?:$|[^\w\n].*$)",
        // Calls to action and template placeholders.
        r"^(?:start (?:your|a) (?:\d+-day )?free trial(?:$|[^\w\n].{0,79})|no credit card required\.?|try (?:it )?(?:for )?free(?:$|[^\w\n].{0,59})|get started(?: for free| today| now)?[.!]?|book a (?:demo|call)(?:$|[^\w\n].{0,59})|request a demo(?:$|[^\w\n].{0,59})|\[[a-z0-9_ -]{3,40}\])$",
        // Click prompts.
        r"^(?:click here|klik di sini|tap here|nhấn vào đây|hier klicken|haga clic aquí|cliquez ici)(?:$|[^\w\n].{0,119})$",
    ];
    // No `\b`: a Unicode word boundary makes the lazy DFA give up on any
    // non-ASCII text, so after a keyword it is spelled as "end, or one
    // non-word character that the following repetition then counts".
    let joined = patterns
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|");
    // Matched against lower-cased lines: case-insensitive classes made
    // compiling it cost more than extracting a dozen pages. A large
    // alternation: give the lazy DFA room, or it thrashes its cache and
    // falls back to the slow PikeVM.
    regex::RegexBuilder::new(&joined)
        .dfa_size_limit(32 << 20)
        .build()
        .unwrap_or_else(|e| unreachable!("built-in regex: {e}"))
});

/// Longest line taken for a cookie notice, in characters.
const COOKIE_NOTICE: usize = 200;

/// Words that put "cookie" in a website's sense (the notice says the site
/// uses, or asks to accept, them) rather than a baker's, in the languages
/// the crawler meets.
const COOKIE_CONTEXT: &[&str] = &[
    "web",
    "site",
    "browser",
    "consent",
    "privacy",
    "datenschutz",
    "einstellung",
    "einwillig",
    "akzept",
    "accept",
    "verwend",
    "nutzen",
    "strona",
    "stronie",
    "serwis",
    "używa",
    "korzysta",
    "zgod",
    "sitio",
    "navega",
    "navig",
    "utiliz",
];

/// Whether a short line is a cookie notice: the word is the same in most
/// languages, and a website word beside it tells it from a recipe.
pub(crate) fn is_cookie_notice(p: &str) -> bool {
    if p.chars().count() > COOKIE_NOTICE {
        return false;
    }
    let lower = p.to_lowercase();
    lower.contains("cookie") && COOKIE_CONTEXT.iter().any(|w| lower.contains(w))
}

/// Share (percent) of a text's visible characters that are the syntax of
/// data (braces, brackets, quotes, colons, equals signs…) from which it is
/// data, not prose: a sentence has a comma or two, a JSON object has one
/// sign for every few letters.
const DATA_SYNTAX_SHARE: usize = 12;

/// Whether a paragraph is text for machines that a page left visible: a
/// JSON or JavaScript object (configuration, tracking, template
/// placeholders), or a list of the page's scripts and styles. Code shown on
/// purpose sits in `<pre>` and is not asked about; a list of links to read
/// (sources, profiles) is not a list of scripts.
pub(crate) fn is_machine_text(p: &str) -> bool {
    let p = p.trim();
    // Nearly every paragraph is neither: two scans for bytes say so.
    let object_like = p.starts_with(['{', '[']);
    if !object_like && !p.contains(".js") && !p.contains(".css") {
        return false;
    }
    let visible = weight(p);
    if visible < 30 {
        return false;
    }
    let object =
        (p.starts_with('{') && p.ends_with('}')) || (p.starts_with('[') && p.ends_with(']'));
    let syntax = p
        .chars()
        .filter(|c| {
            matches!(
                c,
                '{' | '}' | '[' | ']' | '"' | ':' | '=' | ';' | '<' | '>' | '\\'
            )
        })
        .count();
    if object && syntax * 100 >= visible * DATA_SYNTAX_SHARE {
        return true;
    }
    let tokens: Vec<&str> = p.split_whitespace().collect();
    let assets = tokens.iter().filter(|t| is_asset_url(t)).count();
    tokens.len() >= 2 && assets * 10 >= tokens.len() * 8
}

/// A script's or a style sheet's address.
fn is_asset_url(token: &str) -> bool {
    let t = token.trim_matches(|c: char| matches!(c, ',' | ';' | '"' | '\''));
    let path = t.split(['?', '#']).next().unwrap_or(t);
    path.contains('/') && [".js", ".mjs", ".css"].iter().any(|e| path.ends_with(e))
}

/// Whether a whole paragraph is page furniture (see [`BOILERPLATE`]).
pub(crate) fn is_boilerplate(p: &str) -> bool {
    if p.chars().count() > 220 {
        return false;
    }
    BOILERPLATE.is_match(&p.trim().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composed_text_collapses_as_characters_do() {
        let every: String = (0u8..128).map(char::from).collect();
        for s in [
            every.clone(),
            format!("  {every}\t\n {every} \x0b"),
            " a \x0c\x1c b\x7f ".to_string(),
            " It’s\u{a0}\u{a0}café — 東京\u{3000}x\u{200b}y\u{ad} ".to_string(),
        ] {
            let mut by_char = Collapsed::with_capacity(0);
            s.chars().for_each(|c| by_char.push(c));
            assert_eq!(collapse_composed(&s), Some(by_char.text), "{s:?}");
        }
        // A combining mark: composed by the slow path.
        assert_eq!(collapse_composed("cafe\u{301}"), None);
        assert_eq!(clean_inline(" cafe\u{301}  au lait "), "café au lait");
    }

    #[test]
    fn misread_utf8_is_repaired() {
        // Windows-1252 misreading, Latin-1 misreading (C1 controls), a
        // misread no-break space, and a misread euro sign.
        assert_eq!(repair_mojibake("Itâ€™s cafÃ© time"), "It’s café time");
        assert_eq!(
            repair_mojibake("A DIY Investor\u{e2}\u{80}\u{99}s Guide"),
            "A DIY Investor’s Guide"
        );
        assert_eq!(repair_mojibake("cats.Â\u{a0}The"), "cats.\u{a0}The");
        assert_eq!(repair_mojibake("â‚¬5 and Â©"), "€5 and ©");
        assert_eq!(clean_inline("Investorâ\u{80}\u{99}s"), "Investor’s");
    }

    #[test]
    fn real_text_is_not_taken_for_mojibake() {
        for s in [
            "„Gruß“ aus Köln",
            "L’ÉTÉ» et l’hiver",
            "Đà Nẵng, Việt Nam",
            "AÇÃO e INFORMAÇÕES",
            "naïve café, déjà vu",
            "東京都 2025年",
            "Ünlü “Ö” İstanbul",
        ] {
            assert_eq!(repair_mojibake(s), s);
        }
    }

    #[test]
    fn inline_clean_up() {
        assert_eq!(
            clean_inline("  Tom &amp; Jerry\u{200b}\n  go "),
            "Tom & Jerry go"
        );
        assert_eq!(clean_inline("Cafe\u{301}"), "Café");
        assert_eq!(
            decode_entities("a &#39;b&#x27; &unknown; & c"),
            "a 'b' &unknown; & c"
        );
    }

    #[test]
    fn data_and_script_lists_are_machine_text_but_prose_and_links_are_not() {
        assert!(is_machine_text(
            r#"{"config":{"apiKey":"a1b2c3","autoplay":false,"events":["play","end"]}}"#
        ));
        assert!(is_machine_text(
            "https://cdn.test/js/app.min.js https://cdn.test/js/vendor.js /static/site.css?v=3"
        ));
        // A sentence with a colon and quotes, a braced aside, sources to read.
        assert!(!is_machine_text(
            "The minister said: \"We will build it.\" Critics were not convinced at all."
        ));
        assert!(!is_machine_text(
            "{Editor's note: this story was updated on Monday with new figures from the city.}"
        ));
        assert!(!is_machine_text(
            "https://www.city.test/report.pdf https://news.test/2025/bike-lanes"
        ));
    }

    #[test]
    fn furniture_is_recognised_in_many_languages() {
        for p in [
            "TONTON VIDEONYA :",
            "TONTON VIDEO: PESAN PRESIDEN",
            "Komentar (0)",
            "Baca juga: Harga beras naik lagi",
            "Read more: What the election means",
            "Xem thêm: Giá vàng hôm nay",
            "Lesen Sie auch: Was jetzt wichtig ist",
            "Zobacz także",
            "Weiterlesen:",
            "Weitere Beiträge aus der Kolumne:",
            "Das Thema könnte dich auch interessieren:",
            "Contenido relacionado",
            "Opublikowano: 6 kwietnia 2020",
            "Vervielfältigung nur mit Genehmigung",
            "Wszelkie prawa zastrzeżone",
            "Zapraszamy też do subskrypcji tygodnika",
            "Unterstützen Sie unsere Arbeit",
            "Advertisement",
            "Share this article",
            "Sign up for our daily newsletter",
            "© 2025 Example Media. All rights reserved.",
            // Keywords end at a word boundary in any script.
            "Share this article’s link",
            "Chia sẻ bài viết",
            "Читайте также: новости дня",
            "Copyright",
            "<div class=\"x\">",
            "Tags",
            "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
            // Media players, galleries, reviewers.
            "Your browser does not support the video tag.",
            "Ihr Browser unterstützt dieses Video nicht.",
            "Video wird geladen …",
            "Loading...",
            "Artikel anhören",
            "00:00 / 03:12",
            "Bild 3 von 12",
            "Image 1 of 5: The council chamber",
            "Bild vergrößern",
            "Nächstes Bild",
            "Medically reviewed by Dr. Anna Berg, MD",
            "Reviewed by Dr. Anna Berg, MD",
            "Fact-checked by Jane Doe",
            "Medizinisch geprüft von Dr. Anna Berg",
            "Udostępnij",
        ] {
            assert!(is_boilerplate(p), "{p}");
        }
        for p in [
            "Shareholders approved the merger on Tuesday, the company’s statement said.",
            "Copyrighted songs were removed from the platform last week.",
            "Read more\nof the story below, with the details of the vote.",
            "<review_id>: a unique identifier for the review.",
            "Lorem ipsum is the placeholder text typesetters have used for centuries.",
            "The minister said the video was recorded in March.",
            "Watching the river rise, residents packed their belongings and left for higher ground before dawn.",
            "Pada tanggal 25-26 Oktober, di Hanoi, Presiden memimpin upacara.",
            "Loading the lorries took the volunteers most of the night.",
            "The next image the telescope sent back showed the ring clearly.",
            "Reviewed by the committee in May, the plan was approved in June.",
            "Revisado por el Congreso en 2020, el texto establece nuevas reglas para los bancos.",
            "Verificado por la agencia EFE, el vídeo resultó ser un montaje de 2019.",
            "Clinically reviewed by three independent panels, the drug was approved in May.",
            "Your browser does not support third-party cookies by default, which breaks logins.",
            "Delen van Rotterdam onder water",
        ] {
            assert!(!is_boilerplate(p), "{p}");
        }
    }
}
