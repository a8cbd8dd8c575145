"""examples/web/draw.html: the drawing page's pix2pix output, with onnxruntime-web (wasm) in headless Chromium, is
the Python runtime's (`export.TranslatorSession`) for the same input; a missing model gives an error on the page.

As tests/test_web_example.py (both through tests/web_page.py): the repository is served on 127.0.0.1 (plus the
test's model and input under /__test__/), the page takes the input from ?input= and POSTs the output's uint8
pixels, or the error it shows, to ?report=. Skips where no Chromium or no npm packages are.
"""

import json

import numpy as np
import pytest
from web_page import SKIP_WITHOUT_BROWSER, open_page

pytestmark = SKIP_WITHOUT_BROWSER


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
    query, body = open_page(tmp_path, "draw.html", "model=/__test__/pix2pix.onnx&input=/__test__/input.json", files)
    assert "error" not in query, body.decode(errors="replace")
    shape = (int(query["height"]), int(query["width"]), int(query["channels"]))
    drawn = np.frombuffer(body, np.uint8).reshape(shape)
    assert drawn.shape == expected.shape == (16, 16, 1)
    assert expected.std() > 20  # not a flat image: the comparison means something
    # <= 1 as tests/test_web_example.py: wasm's float32 kernels may sum in another order than the CPU provider's.
    assert np.abs(drawn.astype(int) - expected).max() <= 1


def test_drawing_page_reports_a_missing_model(tmp_path):
    query, body = open_page(tmp_path, "draw.html", "model=/__test__/no-such-model.onnx", {})
    message = body.decode()
    assert query.get("error") == "1"
    assert message.startswith("error: cannot load the model ") and "no-such-model.onnx" in message
    assert "404" in message
