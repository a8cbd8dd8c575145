"""examples/web: the page draws, with onnxruntime-web (wasm) in headless Chromium, the Python runtime's grid.

The repository is served on 127.0.0.1 (tests/web_page.py); the page takes the test's noise and labels (?input=)
and POSTs the canvas's RGBA pixels back (?report=). Skips where no Chromium or no npm packages are.
"""

import numpy as np
from web_page import SKIP_WITHOUT_BROWSER, open_page

pytestmark = SKIP_WITHOUT_BROWSER


def _draw_in_browser(tmp_path, model, test_input):
    query, body = open_page(tmp_path, "index.html", f"model={model}&input=/__test__/input.json",
                            {"/__test__/input.json": test_input})
    assert "error" not in query, body.decode(errors="replace")
    return np.frombuffer(body, np.uint8).reshape(int(query["height"]), int(query["width"]), 4)


def test_browser_grid_matches_python_runtime(js_example_case, tmp_path):
    noise, expected = js_example_case("conditional_dcgan_digits", 20, seed=2)
    drawn = _draw_in_browser(tmp_path, "conditional_dcgan_digits", noise)
    assert drawn.shape == (*expected.shape, 4) and (drawn[..., 3] == 255).all()
    assert (drawn[..., :3] == drawn[..., :1]).all()
    assert np.abs(drawn[..., 0].astype(int) - expected).max() <= 1
