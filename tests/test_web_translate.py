"""examples/web/draw.html: the drawing page's pix2pix output, with onnxruntime-web (wasm) in headless Chromium, is
the Python runtime's (`export.TranslatorSession`) for the same input; a missing model gives an error on the page.

As tests/test_web_example.py: the repository is served on 127.0.0.1 (plus the test's model and input under
/__test__/), the page takes the input from ?input= and POSTs the output's uint8 pixels, or the error it shows,
to ?report=. Skips where no Chromium or no npm packages are.
"""

import functools
import http.server
import json
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


def _run_page(tmp_path, query, files):
    """Open draw.html?QUERY&report=... in headless Chromium; returns the (query, body) it POSTs."""
    reports = queue.Queue()
    handler = functools.partial(_Handler, reports=reports, files=files)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/examples/web/draw.html?{query}&report=/__test__/report"
    flags = FLAGS + (["--no-sandbox"] if os.geteuid() == 0 else [])
    browser = subprocess.Popen([BROWSER, *flags, f"--user-data-dir={tmp_path / 'profile'}", url],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return reports.get(timeout=90)
    finally:
        browser.terminate()
        browser.wait(timeout=30)
        server.shutdown()


@pytest.mark.tensorflow_only
def test_drawing_page_matches_python_runtime(tmp_path):
    import keras

    import zoo
    from export import TranslatorSession
    from export.translation import export_translator
    from train.translation_data import load_translation_data

    # A tiny pix2pix at edges2digits' size (random weights: this checks pixels, not drawing skill).
    keras.utils.set_random_seed(0)
    edges = load_translation_data("edges2digits").test_a[7]  # (16, 16, 1) in {-1, 1}
    model = zoo.create_translator("pix2pix", edges.shape, filters=4)
    # The paper's N(0, 0.02) weights give outputs within 0.01 of 0 (all pixels 127 or 128); a last layer 100
    # times larger spreads them over about 30..220, through tanh's curved part, without saturating.
    last = [layer for layer in model.generator.layers if layer.weights][-1]
    for weight in last.weights:
        weight.assign(weight * 100)
    export_translator(model, tmp_path / "pix2pix.onnx")
    pixels = np.rint((edges[..., 0] + 1) * 127.5).astype(np.uint8)  # {0, 255}, white edges on black
    assert set(np.unique(pixels)) == {0, 255}
    (tmp_path / "input.json").write_text(json.dumps(pixels.tolist()))
    expected = TranslatorSession(tmp_path / "pix2pix.onnx", providers="cpu").translate(pixels[..., None])

    files = {"/__test__/pix2pix.onnx": tmp_path / "pix2pix.onnx", "/__test__/input.json": tmp_path / "input.json"}
    query, body = _run_page(tmp_path, "model=/__test__/pix2pix.onnx&input=/__test__/input.json", files)
    assert "error" not in query, body.decode(errors="replace")
    shape = (int(query["height"]), int(query["width"]), int(query["channels"]))
    drawn = np.frombuffer(body, np.uint8).reshape(shape)
    assert drawn.shape == expected.shape == (16, 16, 1)
    assert expected.std() > 20  # not a flat image: the comparison means something
    # <= 1 as tests/test_web_example.py: wasm's float32 kernels may sum in another order than the CPU provider's.
    assert np.abs(drawn.astype(int) - expected).max() <= 1


def test_drawing_page_reports_a_missing_model(tmp_path):
    query, body = _run_page(tmp_path, "model=/__test__/no-such-model.onnx", {})
    message = body.decode()
    assert query.get("error") == "1"
    assert message.startswith("error: cannot load the model ") and "no-such-model.onnx" in message
    assert "404" in message
