"""What the browser tests share: headless Chromium on a page of examples/web, served from this repository.

The repository is served on 127.0.0.1, plus the test's own files under /__test__/ (`files`); the page POSTs its
result (or the error it shows) to ?report=/__test__/report, and `open_page` returns that POST.
"""

import functools
import http.server
import os
import pathlib
import queue
import shutil
import subprocess
import threading
import urllib.parse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "web"
BROWSER = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
FLAGS = ["--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--mute-audio"]

# The browser tests' `pytestmark`: they skip where no Chromium or no npm packages are.
SKIP_WITHOUT_BROWSER = [
    pytest.mark.skipif(BROWSER is None, reason="no Chromium: `apt-get install -y chromium` (make test tries)"),
    pytest.mark.skipif(
        not (EXAMPLE / "node_modules" / "onnxruntime-web" / "dist").is_dir(),
        reason="onnxruntime-web is not installed: run `npm ci` in examples/web (make test does)",
    ),
]


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the repository, plus `files` ({"/__test__/NAME": path}); POSTs go to `reports`."""

    def __init__(self, *args, reports, files, **kwargs):
        self.reports, self.files = reports, files
        super().__init__(*args, directory=str(ROOT), **kwargs)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/__test__/"):
            if path not in self.files:
                self.send_error(404)
                return
            body = self.files[path].read_bytes()
            self.send_response(200)
            kind = "application/json" if path.endswith(".json") else "application/octet-stream"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            super().do_GET()

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()
        self.reports.put((dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)), body))

    def log_message(self, *args):
        pass


def open_page(tmp_path, page, query, files):
    """Open examples/web/PAGE?QUERY&report=... in headless Chromium; returns the (query, body) it POSTs.

    Args:
        tmp_path: where the browser profile goes.
        page: a page of examples/web, e.g. "index.html".
        query: the page's query string, without the report parameter.
        files: {"/__test__/NAME": path} served beside the repository.
    """
    reports = queue.Queue()
    handler = functools.partial(_Handler, reports=reports, files=files)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/examples/web/{page}?{query}&report=/__test__/report"
    flags = FLAGS + (["--no-sandbox"] if os.geteuid() == 0 else [])
    browser = subprocess.Popen([BROWSER, *flags, f"--user-data-dir={tmp_path / 'profile'}", url],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return reports.get(timeout=90)
    finally:
        browser.terminate()
        browser.wait(timeout=30)
        server.shutdown()
