//! The watch schedule: when `watch` fetches a page again. Seeds, feeds and
//! sitemaps come back on their seed's `every`; everything else by how long
//! it has gone unchanged (often while young, rarely when old, never past
//! the schedule's last step). A plain crawl schedules no revisits.

use chrono::{DateTime, TimeDelta, Utc};

use crate::archive::{PageRecord, PageState, Via};
use crate::config::Scope;

/// robots.txt answers are cached for a day: a disallowed page is asked
/// about again after that.
const DISALLOWED_RETRY: TimeDelta = TimeDelta::hours(24);

/// When to fetch `page` again under `scope`'s schedule, if at all.
pub fn next_visit(scope: &Scope, page: &PageRecord, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if page.state == PageState::Disallowed {
        return Some(now + DISALLOWED_RETRY);
    }
    if (page.via == Via::Seed || page.listing)
        && let Some(every) = scope.every
    {
        return Some(now + every);
    }
    let changed = page
        .latest
        .as_ref()
        .and_then(|l| l.first_seen)
        .or(page.first_captured)
        .unwrap_or(now);
    let age = (now - changed).to_std().unwrap_or_default();
    scope.revisit.interval(age).map(|i| now + i)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::archive::{HostId, LatestVersion};
    use crate::article::PageKind;
    use crate::canonical::CanonicalUrl;
    use crate::config::RevisitSchedule;
    use crate::digest::ContentDigest;

    fn scope(every: Option<u64>) -> Scope {
        let steps = ["4s=1s", "10s=3s", "1h=5s"].map(String::from);
        Scope {
            host: "news.test".into(),
            include: Vec::new(),
            exclude: Vec::new(),
            depth: 3,
            source_hops: 0,
            every: every.map(Duration::from_secs),
            revisit: RevisitSchedule::parse(&steps).unwrap(),
        }
    }

    fn page(via: Via, changed: DateTime<Utc>) -> PageRecord {
        let url = CanonicalUrl::parse("http://news.test/story").unwrap();
        let mut page = PageRecord::new(url, HostId(1), "news.test".into(), via);
        page.state = PageState::Fetched;
        page.first_captured = Some(changed);
        page.latest = Some(LatestVersion {
            number: 1,
            digest: ContentDigest::of(b"story"),
            title: None,
            kind: PageKind::Article,
            language: None,
            first_seen: Some(changed),
        });
        page
    }

    fn gap(scope: &Scope, page: &PageRecord, now: DateTime<Utc>) -> Option<i64> {
        next_visit(scope, page, now).map(|at| (at - now).num_seconds())
    }

    #[test]
    fn articles_are_revisited_less_often_as_they_age_and_then_not_at_all() {
        let changed = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let story = page(Via::Link(crate::archive::UrlId(1)), changed);
        let s = scope(Some(1));
        let at = |secs| changed + TimeDelta::seconds(secs);
        assert_eq!(gap(&s, &story, at(2)), Some(1));
        assert_eq!(gap(&s, &story, at(5)), Some(3));
        assert_eq!(gap(&s, &story, at(60)), Some(5));
        assert_eq!(gap(&s, &story, at(7200)), None);
    }

    #[test]
    fn seeds_and_listings_come_back_on_their_every_however_old() {
        let changed = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let late = changed + TimeDelta::days(400);
        let s = scope(Some(1));
        assert_eq!(gap(&s, &page(Via::Seed, changed), late), Some(1));
        let mut feed = page(Via::Robots, changed);
        feed.listing = true;
        assert_eq!(gap(&s, &feed, late), Some(1));
        // Without an `every`, a seed follows the article schedule.
        assert_eq!(gap(&scope(None), &page(Via::Seed, changed), late), None);
    }

    #[test]
    fn a_disallowed_page_is_asked_about_again_after_a_day() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut refused = page(Via::Seed, now);
        refused.state = PageState::Disallowed;
        assert_eq!(gap(&scope(Some(1)), &refused, now), Some(86_400));
    }

    #[test]
    fn a_change_restarts_the_schedule() {
        let first = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let now = first + TimeDelta::seconds(60);
        let mut story = page(Via::Link(crate::archive::UrlId(1)), first);
        assert_eq!(gap(&scope(None), &story, now), Some(5));
        story.latest.as_mut().unwrap().first_seen = Some(now - TimeDelta::seconds(1));
        assert_eq!(gap(&scope(None), &story, now), Some(1));
    }
}
