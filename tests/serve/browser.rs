//! A real headless Chromium (Debian's `chromium` and `chromium-driver`,
//! installed by .ci/run) walks the fact-checker's flow through WebDriver:
//! index → search → article → pick two versions → the highlighted change.
//! A screenshot of the diff page is written to target/diff-page.png. It
//! also proves the framing rules as a browser applies them: our capture page
//! frames a capture, another origin cannot frame the interface.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Served, hostile_archive};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    _profile: tempfile::TempDir,
}

impl Driver {
    fn start() -> Driver {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed (apt-get install chromium chromium-driver; .ci/run does)");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().unwrap();
        let mut driver = Driver {
            child,
            base,
            session: String::new(),
            http,
            runtime,
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while driver.call("GET", "/status", None).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(200));
        }
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1600",
        ];
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.push(format!(
            "--user-data-dir={}",
            driver._profile.path().display()
        ));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}
        }}});
        let session = driver
            .call("POST", "/session", Some(caps))
            .expect("a browser session");
        driver.session = session["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        driver
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        self.runtime.block_on(async {
            let req = match method {
                "GET" => self.http.get(&url),
                "DELETE" => self.http.delete(&url),
                _ => self
                    .http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.unwrap_or_else(|| json!({})).to_string()),
            };
            let resp = req
                .timeout(Duration::from_secs(60))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = resp.status();
            let text = resp.text().await.map_err(|e| e.to_string())?;
            let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            if status.is_success() {
                Ok(v["value"].clone())
            } else {
                Err(format!("{method} {path}: {status} {v}"))
            }
        })
    }

    fn s(&self, path: &str) -> String {
        format!("/session/{}{path}", self.session)
    }

    fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({"url": url})))
            .expect("navigate");
    }

    fn find(&self, css: &str) -> String {
        let v = self
            .call(
                "POST",
                &self.s("/element"),
                Some(json!({"using": "css selector", "value": css})),
            )
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        v[ELEMENT].as_str().expect("element id").to_string()
    }

    fn find_all(&self, css: &str) -> Vec<String> {
        let v = self
            .call(
                "POST",
                &self.s("/elements"),
                Some(json!({"using": "css selector", "value": css})),
            )
            .unwrap_or_default();
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn click(&self, el: &str) {
        self.call(
            "POST",
            &self.s(&format!("/element/{el}/click")),
            Some(json!({})),
        )
        .expect("click");
    }

    fn type_text(&self, el: &str, text: &str) {
        self.call(
            "POST",
            &self.s(&format!("/element/{el}/value")),
            Some(json!({"text": text})),
        )
        .expect("type");
    }

    fn text(&self, el: &str) -> String {
        self.call("GET", &self.s(&format!("/element/{el}/text")), None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    fn current_url(&self) -> String {
        self.call("GET", &self.s("/url"), None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Waits (up to 20 s) for a condition that follows a click: a click
    /// returns when the event is dispatched, not when the next page is in.
    fn wait_until<T>(&self, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(v) = check() {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; at {}",
                self.current_url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn screenshot(&self, path: &std::path::Path) {
        let b64 = self
            .call("GET", &self.s("/screenshot"), None)
            .expect("screenshot");
        let png = data_encoding::BASE64
            .decode(b64.as_str().unwrap_or_default().as_bytes())
            .expect("base64");
        std::fs::write(path, png).expect("write screenshot");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn chromium_walks_from_search_to_the_highlighted_change() {
    let (_server, archive, story) = hostile_archive();
    let served = Served::start(&archive);
    let driver = Driver::start();

    driver.goto(&served.url("/"));
    let search = driver.find("input[name=q]");
    driver.type_text(&search, "Breaking");
    driver.click(&driver.find("form.filters button[type=submit]"));
    driver.wait_until("the search results", || {
        driver.current_url().contains("q=Breaking").then_some(())
    });
    let results = driver.wait_until("one search result", || {
        let found = driver.find_all("tbody td a");
        (found.len() == 1).then_some(found)
    });

    driver.click(&results[0]);
    driver.wait_until("the article page", || {
        driver.current_url().contains("/article?url=").then_some(())
    });
    // Pick the two versions and compare them.
    driver.click(&driver.find("select[name=a] option[value='1']"));
    driver.click(&driver.find("select[name=b] option[value='2']"));
    driver.click(&driver.find("form#compare button[type=submit]"));
    let url = driver.wait_until("the diff page", || {
        let url = driver.current_url();
        url.contains("/diff?").then_some(url)
    });
    assert!(url.contains("a=1") && url.contains("b=2"), "{url}");
    assert!(
        url.contains(&super::enc(&story)) || url.contains("story"),
        "{url}"
    );

    let inserted = driver.wait_until("the highlighted insertion", || {
        let texts: Vec<String> = driver
            .find_all("#inline ins")
            .iter()
            .map(|e| driver.text(e))
            .collect();
        texts
            .iter()
            .any(|t| t.contains("An added line"))
            .then_some(texts)
    });
    assert!(!inserted.is_empty());
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).unwrap();
    let shot = target.join("diff-page.png");
    driver.screenshot(&shot);
    assert!(
        std::fs::metadata(&shot)
            .map(|m| m.len() > 1000)
            .unwrap_or(false)
    );
}

#[test]
fn chromium_searches_the_text_and_opens_the_version_that_matched() {
    let (_server, archive, _story) = hostile_archive();
    let served = Served::start(&archive);
    let driver = Driver::start();

    driver.goto(&served.url("/"));
    driver.click(&driver.find("header a[href='/search']"));
    driver.wait_until("the search page", || {
        driver.current_url().ends_with("/search").then_some(())
    });
    driver.type_text(&driver.find("input[name=q]"), "\"added line\"");
    driver.click(&driver.find("form.filters button[type=submit]"));
    driver.wait_until("one search hit", || {
        (driver.find_all("ol.hits li.hit").len() == 1).then_some(())
    });
    let marks: Vec<String> = driver
        .find_all("li.hit mark")
        .iter()
        .map(|m| driver.text(m))
        .collect();
    assert_eq!(
        marks,
        ["added", "line"],
        "{}",
        driver.run_script("return document.querySelector('ol.hits').innerHTML")
    );

    driver.click(&driver.find("li.hit span.meta a"));
    let url = driver.wait_until("the diff of the version that matched", || {
        let url = driver.current_url();
        url.contains("/diff?").then_some(url)
    });
    assert!(url.contains("a=1") && url.contains("b=2"), "{url}");
    driver.wait_until("the added line", || {
        driver
            .find_all("#inline ins")
            .iter()
            .any(|e| driver.text(e).contains("An added line"))
            .then_some(())
    });
}

impl Driver {
    /// Runs `script` in the current browsing context.
    fn run_script(&self, script: &str) -> Value {
        self.call(
            "POST",
            &self.s("/execute/sync"),
            Some(json!({"script": script, "args": []})),
        )
        .unwrap_or(Value::Null)
    }

    /// Makes the first `iframe` of the page the current browsing context.
    fn enter_frame(&self) {
        let frame = self.find("iframe");
        self.call(
            "POST",
            &self.s("/frame"),
            Some(json!({"id": {ELEMENT: frame}})),
        )
        .expect("switch to the frame");
    }

    /// The URL the current frame ended on, once it has one.
    fn frame_document_url(&self) -> String {
        self.wait_until("the frame to load", || {
            let url = self.run_script("return document.URL");
            url.as_str()
                .filter(|u| *u != "about:blank" && !u.is_empty())
                .map(str::to_string)
        })
    }
}

#[test]
fn chromium_frames_a_capture_on_our_page_but_another_site_cannot_frame_us() {
    let (_server, archive, story) = hostile_archive();
    let served = Served::start(&archive);
    let (_, _, article) = served.get(&format!("/article?url={}", super::enc(&story)));
    let at = super::first_capture_time(&article).to_string();
    let driver = Driver::start();

    // Our capture page shows the capture in its sandboxed frame.
    driver.goto(&served.url(&format!("/capture?url={}&at={at}", super::enc(&story))));
    driver.enter_frame();
    let url = driver.frame_document_url();
    assert!(url.contains("/raw?"), "the capture loaded: {url}");
    let headline = driver.wait_until("the captured headline", || {
        driver
            .find_all("h1")
            .first()
            .map(|h| driver.text(h))
            .filter(|t| !t.is_empty())
    });
    assert!(headline.contains("Breaking"), "{headline}");

    // A page of another origin (another port) framing the index is refused.
    let port = served.port;
    let framer = crate::support::Server::start(move |_| {
        crate::support::html(format!(
            "<!doctype html><html><body><iframe src=\"http://127.0.0.1:{port}/\"></iframe></body></html>"
        ))
    });
    driver.goto(&format!("http://127.0.0.1:{}/", framer.port));
    driver.enter_frame();
    let url = driver.frame_document_url();
    assert!(
        !url.starts_with(&served.url("/")),
        "the index must not load inside another site's frame: {url}"
    );
    assert!(
        driver.find_all("form.filters").is_empty(),
        "nothing of the interface inside the frame"
    );
}
