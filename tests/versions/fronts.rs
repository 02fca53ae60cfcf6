//! A section front is versioned by what a reader sees on it: the ordered
//! headlines and the stories they link to. A story leaving the front, or a
//! front-page headline rewritten, is a new version of the front; fronts
//! stay out of `changes` and the feed unless every page is asked for.

use super::news::*;
use crate::support::*;

const HOST: &str = "fronts.test";

#[test]
fn a_front_whose_headlines_change_gains_a_version_kept_out_of_changes_by_default() {
    let edition = Edition::new();
    let before = front_page(
        "09:00",
        &[
            ("/a", "Flood warnings issued for the river valley"),
            ("/b", "Council approves the new harbour budget"),
        ],
    );
    // Only the clock changed: not a new version.
    let clock_only = front_page(
        "09:30",
        &[
            ("/a", "Flood warnings issued for the river valley"),
            ("/b", "Council approves the new harbour budget"),
        ],
    );
    // The lead headline is rewritten, a story leaves, another arrives.
    let after = front_page(
        "10:00",
        &[
            ("/a", "Thousands evacuated as floods reach the valley"),
            ("/c", "Schools close early ahead of the storm"),
        ],
    );
    let site = Site::new()
        .page(HOST, "/a", page("A", &[]))
        .page(HOST, "/b", page("B", &[]))
        .page(HOST, "/c", page("C", &[]));
    let server = changing(
        site,
        HOST,
        "/",
        &edition,
        vec![before, clock_only, after],
        Validators::None,
    )
    .serve();
    let archive = Archive::new();
    let crawl = || {
        archive
            .crawl(&server, &[HOST])
            .args(["--rate", "50/s", "--depth", "1"])
            .arg(server.url(HOST, "/"))
            .run(std::time::Duration::from_secs(60))
            .assert_success("crawl");
    };
    let front = server.url(HOST, "/");
    crawl();
    edition.advance();
    crawl();
    assert_eq!(
        history(&archive, &front).len(),
        1,
        "a clock is not a change"
    );
    edition.advance();
    crawl();
    let versions = history(&archive, &front);
    assert_eq!(versions.len(), 2, "{versions:#?}");

    let shown = show(&archive, &front, Some(2));
    let headlines: Vec<&str> = shown["headlines"]
        .as_array()
        .unwrap_or_else(|| panic!("a front shows its headlines: {shown:#}"))
        .iter()
        .filter_map(|h| h["text"].as_str())
        .collect();
    assert_eq!(
        headlines,
        [
            "Thousands evacuated as floods reach the valley",
            "Schools close early ahead of the storm"
        ]
    );

    let diff = cli(&archive, &["diff", &front]);
    diff.assert_success("diff");
    for said in [
        "Schools close early ahead of the storm",
        "Council approves the new harbour budget",
        "Thousands evacuated",
    ] {
        assert!(
            diff.stdout.contains(said),
            "diff should show {said:?}:\n{}",
            diff.stdout
        );
    }

    let changes = json_lines(&cli(&archive, &["changes", "--json"]), "changes");
    assert!(
        changes.iter().all(|c| c["url"] != front.as_str()),
        "a front is not an article change: {changes:#?}"
    );
    let all = json_lines(
        &cli(&archive, &["changes", "--json", "--all-pages"]),
        "changes",
    );
    assert!(all.iter().any(|c| c["url"] == front.as_str()), "{all:#?}");

    // The feed and the API agree with the CLI.
    let served = crate::serve::Served::start(&archive);
    for (path, listed) in [
        ("/changes.atom", false),
        ("/changes.atom?all=1", true),
        ("/api/changes", false),
        ("/api/changes?all=1", true),
    ] {
        let (code, _, body) = served.get(path);
        assert_eq!(code, 200, "{path}: {body}");
        // The front's URL itself, not as the prefix of a story's.
        let names_front = body.match_indices(front.as_str()).any(|(at, _)| {
            body[at + front.len()..]
                .chars()
                .next()
                .is_none_or(|c| !(c.is_alphanumeric() || "/-_.%?&=".contains(c)))
        });
        assert_eq!(
            names_front,
            listed,
            "{path} should {}list the front:\n{body}",
            if listed { "" } else { "not " }
        );
    }
}
