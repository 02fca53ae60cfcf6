//! The interface answers only requests for its own names (a rebound name
//! reaching it from a hostile page is refused before anything is read or
//! run), no other site may frame it, and bad query values and request
//! bodies get clear 400s in the format the route speaks.

use super::{Served, hostile_archive};

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The message of a JSON `{"error": …}` answer with status `want`.
fn json_error(what: &str, want: u16, (code, head, body): (u16, String, String)) -> String {
    assert_eq!(code, want, "{what}: {body}");
    assert!(head.contains("application/json"), "{what}: {head}");
    let json: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {body}"));
    let message = json["error"].as_str().unwrap_or_default().to_string();
    assert!(!message.is_empty(), "{what}: {body}");
    message
}

const STATS: &str = r#"{"command":"stats","json":true}"#;

#[test]
fn a_request_for_a_rebound_name_is_refused_with_421_and_runs_nothing() {
    let (_server, archive, story) = hostile_archive();
    let served = Served::start(&archive);
    let evil = format!("evil.example:{}", served.port);
    for host in ["evil.example", evil.as_str(), "localhost.evil.example"] {
        let (code, _, body) = served.get_as(host, "/");
        assert_eq!(code, 421, "Host: {host}: {body}");
        assert!(
            body.contains("DNS rebinding") && body.contains("localhost"),
            "the refusal says why and which names work: {body}"
        );
        assert!(!body.contains(&story), "nothing of the archive: {body}");
        let message = json_error(host, 421, served.get_as(host, "/api/pages"));
        assert!(message.contains("DNS rebinding"), "{message}");
        // A reading command posted under a foreign name is not run.
        let (code, _, body) = served.post(
            host,
            "/api/read",
            "Content-Type: application/json\r\n",
            STATS,
        );
        assert_eq!(code, 421, "POST /api/read as {host}: {body}");
        assert!(
            !body.contains("captures"),
            "the command did not run: {body}"
        );
    }
    // The same command under our own name runs.
    let (code, _, body) = served.post(
        "127.0.0.1",
        "/api/read",
        "Content-Type: application/json\r\n",
        STATS,
    );
    assert_eq!(code, 200, "{body}");
    let (code, _, body) = served.get_as("local host", "/");
    assert_eq!(code, 400, "a Host that is no host name: {body}");
}

#[test]
fn names_allowed_with_allow_host_are_answered_and_others_still_refused() {
    let (_server, archive, story) = hostile_archive();
    let served = Served::start_with(&archive, "127.0.0.1", &["--allow-host", "archive.example"]);
    let own = format!("archive.example:{}", served.port);
    for host in ["archive.example", own.as_str()] {
        let (code, _, body) = served.get_as(host, "/");
        assert_eq!(code, 200, "Host: {host}: {body}");
        assert!(body.contains(&story), "Host: {host}: {body}");
    }
    let (code, _, body) = served.get_as("evil.example", "/");
    assert_eq!(code, 421, "{body}");
}

#[test]
fn loopback_names_with_and_without_the_port_are_answered() {
    let (_server, archive, story) = hostile_archive();
    let served = Served::start(&archive);
    let port = served.port;
    let hosts = [
        "localhost".to_string(),
        format!("localhost:{port}"),
        "127.0.0.1".to_string(),
        format!("127.0.0.1:{port}"),
        "[::1]".to_string(),
        format!("[::1]:{port}"),
        format!("LocalHost:{port}"),
    ];
    for host in &hosts {
        let (code, _, body) = served.get_as(host, "/");
        assert_eq!(code, 200, "Host: {host}: {body}");
        assert!(body.contains("Archived articles"), "Host: {host}: {body}");
        let (code, _, body) = served.get_as(host, "/api/pages");
        assert_eq!(code, 200, "Host: {host}: {body}");
        assert!(body.contains(&story), "Host: {host}: {body}");
    }
}

#[test]
fn a_wildcard_bind_answers_its_own_address_and_refuses_other_names() {
    let (_server, archive, _) = hostile_archive();
    // Bound to every interface; the requests still only go to 127.0.0.1.
    let served = Served::start_on(&archive, "0.0.0.0");
    let own = format!("0.0.0.0:{}", served.port);
    for host in [own.as_str(), "127.0.0.1", "localhost"] {
        let (code, _, body) = served.get_as(host, "/api/pages");
        assert_eq!(code, 200, "Host: {host}: {body}");
    }
    let (code, _, body) = served.get_as("evil.example", "/api/pages");
    assert_eq!(code, 421, "{body}");
}

#[test]
fn no_response_may_be_framed_by_another_site() {
    let (_server, archive, story) = hostile_archive();
    let served = Served::start(&archive);
    let u = super::enc(&story);
    let pages = [
        ("/", 200),
        ("/?q=story", 200),
        (&*format!("/article?url={u}"), 200),
        (&*format!("/diff?url={u}&a=1&b=2"), 200),
        ("/status", 200),
        ("/changes.atom", 200),
        ("/api/pages", 200),
        (&*format!("/api/history?url={u}"), 200),
        ("/no/such/route", 404),
        ("/article", 400),
    ];
    for (path, want) in pages {
        let (code, head, _) = served.get(path);
        assert_eq!(code, want, "{path}");
        let csp = header(&head, "content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(
            header(&head, "x-frame-options"),
            Some("DENY"),
            "{path}: {head}"
        );
    }
    // The refusal itself is not frameable either.
    let (_, head, _) = served.get_as("evil.example", "/");
    let csp = header(&head, "content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{head}");
    // A raw capture may be framed only by our own capture page.
    let (_, _, article) = served.get(&format!("/article?url={u}"));
    let at = super::first_capture_time(&article);
    let (code, head, _) = served.get(&format!("/raw?url={u}&at={at}"));
    assert_eq!(code, 200);
    let csp = header(&head, "content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("sandbox") && csp.contains("frame-ancestors 'self'"),
        "{csp}"
    );
    assert_eq!(header(&head, "x-frame-options"), Some("SAMEORIGIN"));
}

#[test]
fn invalid_query_values_are_400_not_ignored() {
    let (_server, archive, _) = hostile_archive();
    let served = Served::start(&archive);
    for path in [
        "/?page=abc",
        "/?page=0",
        "/?page=-1",
        "/?page=99999999999999999999",
        "/?all=maybe",
        "/?q=x&page=2.5",
    ] {
        let (code, _, body) = served.get(path);
        assert_eq!(code, 400, "{path}: {body}");
        assert!(
            body.contains("must be"),
            "{path}: says what is expected: {body}"
        );
    }
    for path in ["/api/pages?page=abc", "/api/pages?all=2"] {
        let message = json_error(path, 400, served.get(path));
        assert!(message.contains("must be"), "{path}: {message}");
    }
    for path in [
        "/?page=1",
        "/?page=7",
        "/?all=1",
        "/?all=0",
        "/api/pages?page=3",
    ] {
        let (code, _, body) = served.get(path);
        assert_eq!(code, 200, "{path}: {body}");
    }
}

#[test]
fn api_read_answers_bad_requests_in_json() {
    let (_server, archive, _) = hostile_archive();
    let served = Served::start(&archive);
    let json = "Content-Type: application/json\r\n";
    let cases = [
        ("no content type", "", STATS, 415),
        ("plain text", "Content-Type: text/plain\r\n", STATS, 415),
        ("not JSON", json, "{not json", 400),
        (
            "not a reading command",
            json,
            r#"{"command":"verify"}"#,
            422,
        ),
    ];
    for (what, headers, body, want) in cases {
        json_error(
            what,
            want,
            served.post("127.0.0.1", "/api/read", headers, body),
        );
    }
    let message = json_error("GET /api/read", 405, served.get("/api/read"));
    assert!(message.contains("POST"), "{message}");
}
