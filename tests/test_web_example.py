"""examples/web: the page draws, with onnxruntime-web (wasm) in headless Chromium, the Python runtime's grid.

The repository is served on 127.0.0.1; the page takes the test's noise and labels (?input=) and
POSTs the canvas's RGBA pixels back (?report=). Skips where no Chromium or no npm packages are.
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

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "web"
BROWSER = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
FLAGS = ["--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--mute-audio"]

pytestmark = [
    pytest.mark.skipif(BROWSER is None, reason="no Chromium: `apt-get install -y chromium` (make test tries)"),
    pytest.mark.skipif(
        not (EXAMPLE / "node_modules" / "onnxruntime-web" / "dist").is_dir(),
        reason="onnxruntime-web is not installed: run `npm ci` in examples/web (make test does)",
    ),
]


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the repository, plus the test's input at /__test__/input.json; POSTs go to `reports`."""

    def __init__(self, *args, reports, test_input, **kwargs):
        self.reports, self.test_input = reports, test_input
        super().__init__(*args, directory=str(ROOT), **kwargs)

    def do_GET(self):
        if self.path.startswith("/__test__/input.json"):
            body = self.test_input.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
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


def _draw_in_browser(tmp_path, model, test_input):
    reports = queue.Queue()
    handler = functools.partial(_Handler, reports=reports, test_input=test_input)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = (f"http://127.0.0.1:{server.server_port}/examples/web/index.html?model={model}"
           "&input=/__test__/input.json&report=/__test__/report")
    flags = FLAGS + (["--no-sandbox"] if os.geteuid() == 0 else [])
    browser = subprocess.Popen([BROWSER, *flags, f"--user-data-dir={tmp_path / 'profile'}", url],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        query, body = reports.get(timeout=90)
    finally:
        browser.terminate()
        browser.wait(timeout=30)
        server.shutdown()
    assert "error" not in query, body.decode(errors="replace")
    return np.frombuffer(body, np.uint8).reshape(int(query["height"]), int(query["width"]), 4)


def test_browser_grid_matches_python_runtime(js_example_case, tmp_path):
    noise, expected = js_example_case("conditional_dcgan_digits", 20, seed=2)
    drawn = _draw_in_browser(tmp_path, "conditional_dcgan_digits", noise)
    assert drawn.shape == (*expected.shape, 4) and (drawn[..., 3] == 255).all()
    assert (drawn[..., :3] == drawn[..., :1]).all()
    assert np.abs(drawn[..., 0].astype(int) - expected).max() <= 1
