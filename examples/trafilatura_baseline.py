#!/usr/bin/env python3
"""The baseline extraction_eval compares against: trafilatura's main text
for every page of one or more directories in the WCXB layout
(html/<id>.html.gz + ground-truth/<id>.json), as JSON lines {"id", "text"}.

    pip install trafilatura lxml_html_clean
    python3 examples/trafilatura_baseline.py DIR... > trafilatura.jsonl
    cargo run --release --example extract_eval -- DIR... --external trafilatura.jsonl

trafilatura runs with its defaults (as a user would call it), with the
page's URL where the ground truth gives one. Its speed is printed on stderr.
"""

import gzip
import json
import pathlib
import sys
import time

import trafilatura


def pages(directory):
    root = pathlib.Path(directory)
    for truth_path in sorted((root / "ground-truth").glob("*.json")):
        page_id = truth_path.stem
        html_path = root / "html" / f"{page_id}.html.gz"
        if not html_path.exists():
            continue
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        yield page_id, truth.get("url"), gzip.decompress(html_path.read_bytes())


def main(directories):
    count, spent = 0, 0.0
    for directory in directories:
        for page_id, url, html in pages(directory):
            started = time.process_time()
            text = trafilatura.extract(html, url=url) or ""
            spent += time.process_time() - started
            count += 1
            print(json.dumps({"id": page_id, "text": text}, ensure_ascii=False))
    if spent > 0:
        print(f"trafilatura {trafilatura.__version__}: {count} pages, "
              f"{count / spent:.1f} pages/s of CPU time", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
