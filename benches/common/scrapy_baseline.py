"""Scrapy's side of `cargo bench --bench crawl_throughput` (BENCH_SCRAPY=1).

Crawls the benchmark's loopback site as palimpsest does: from each host's
home page, following links within the site's hosts, robots.txt obeyed,
64 requests in flight, no delay, and every response body stored to disk as
raw HTML (one file a page). Names are never looked up: the resolver answers
`*.test` with 127.0.0.1 and refuses every other name, and a downloader
middleware drops any request for a host outside `*.test` before it is made.

Usage: scrapy_baseline.py PORT OUT_DIR HOST... ; prints one JSON line with
the pages stored and Scrapy's own elapsed time.
"""

import hashlib
import json
import sys
from pathlib import Path

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import IgnoreRequest
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import defer
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer


def is_loopback_name(name):
    return name.endswith(".test")


@implementer(IResolverSimple)
class LoopbackOnlyResolver:
    """Every `.test` name is 127.0.0.1; no other name is ever resolved."""

    def __init__(self, reactor):
        self.reactor = reactor

    @classmethod
    def from_crawler(cls, crawler, reactor):
        return cls(reactor)

    def install_on_reactor(self):
        self.reactor.installResolver(self)

    def getHostByName(self, name, timeout=()):
        if is_loopback_name(name):
            return defer.succeed("127.0.0.1")
        return defer.fail(DNSLookupError(f"{name}: only .test names, pinned to loopback"))


class LoopbackOnlyRequests:
    """Drops a request for any host outside `*.test` before it is made."""

    def process_request(self, request):
        host = urlparse_cached(request).hostname or ""
        if not is_loopback_name(host):
            raise IgnoreRequest(f"{host}: not a loopback .test host")


class SiteSpider(scrapy.Spider):
    name = "site"

    def __init__(self, port, out_dir, hosts, **kwargs):
        super().__init__(**kwargs)
        self.seeds = [f"http://{h}:{port}/" for h in hosts]
        self.allowed_domains = list(hosts)
        # The link extractor compares the whole netloc, port included.
        self.links = LinkExtractor(allow_domains=[f"{h}:{port}" for h in hosts])
        self.out_dir = Path(out_dir)
        self.stored = 0

    async def start(self):
        # Through the duplicate filter, unlike default start requests: a
        # link back to a home page must not fetch it a second time.
        for url in self.seeds:
            yield scrapy.Request(url, callback=self.parse, dont_filter=False)

    def parse(self, response):
        name = hashlib.sha1(response.url.encode()).hexdigest() + ".html"
        (self.out_dir / name).write_bytes(response.body)
        self.stored += 1
        for link in self.links.extract_links(response):
            yield response.follow(link.url, self.parse)


def main():
    port, out_dir, hosts = sys.argv[1], sys.argv[2], sys.argv[3:]
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    process = CrawlerProcess(
        settings={
            "TWISTED_DNS_RESOLVER": f"{__name__}.LoopbackOnlyResolver",
            "DOWNLOADER_MIDDLEWARES": {f"{__name__}.LoopbackOnlyRequests": 50},
            "ROBOTSTXT_OBEY": True,
            "CONCURRENT_REQUESTS": 64,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 64,
            "DOWNLOAD_DELAY": 0,
            "DEPTH_LIMIT": 100,
            "COOKIES_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "USER_AGENT": "scrapy-baseline (palimpsest benchmark)",
        }
    )
    crawler = process.create_crawler(SiteSpider)
    process.crawl(crawler, port=port, out_dir=out_dir, hosts=hosts)
    process.start()
    stats = crawler.stats.get_stats()
    print(
        json.dumps(
            {
                "pages_stored": crawler.spider.stored,
                "responses": stats.get("response_received_count", 0),
                "elapsed_secs": stats.get("elapsed_time_seconds"),
                "errors": stats.get("log_count/ERROR", 0),
            }
        )
    )


if __name__ == "__main__":
    main()
