"""ONNX export: graph contract, metadata, parity against Keras, fp16, sources, and the graph rewrite."""

import json

import keras
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import zoo
from export import GeneratorSession, exporter
from export import metadata as metadata_lib
from export.exporter import ParityError, export_generator, optimize_graph
from train import run_folder


def _randomise_batchnorm(generator, seed=0):
    """Trained-looking BatchNorm statistics, so folding scale and shift into the convolutions is exercised."""
    rng = np.random.default_rng(seed)
    for layer in generator.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 1.5, c))
            layer.beta.assign(rng.normal(0, 0.3, c))
            layer.moving_mean.assign(rng.normal(0, 0.3, c))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, c))


@pytest.fixture(scope="module")
def dcgan():
    keras.utils.set_random_seed(0)
    # The preset's InfoGAN code stays (its layer must export too); the moving average is off, so that the
    # ONNX file holds the very generator whose BatchNorm statistics are randomised below.
    gan = zoo.create("dcgan_mbd_code_ema", data_shape=(8, 8, 1), latent_dim=16, filters=8, prior="normal", ema_decay=0)
    _randomise_batchnorm(gan.generator)
    return gan


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    """A run folder as `ganzoo train` leaves it: config.json, gan.keras, generator.keras."""
    keras.utils.set_random_seed(1)
    gan = zoo.create("conditional_dcgan_mbd", backbone="dcgan", data_shape=(8, 8, 1), latent_dim=16, filters=8, num_classes=3)
    _randomise_batchnorm(gan.generator, seed=1)
    folder = tmp_path_factory.mktemp("run")
    gan.compile()  # zoo.GAN.save fails on an uncompiled GAN (get_compile_config); runs are always compiled
    gan.save(folder / "gan.keras")
    gan.generator.save(folder / "generator.keras")
    config = {"preset": "conditional", "options": {"backbone": "dcgan"}, "dataset": "digits",
              "class_names": ["zero", "one", "two"], "data_shape": [8, 8, 1], "epochs": 2, "seed": 1}
    (folder / "config.json").write_text(json.dumps(config))
    return folder, gan


def _graph_io(model):
    def describe(value):
        tensor = value.type.tensor_type
        return tensor.elem_type, [d.dim_param or d.dim_value for d in tensor.shape.dim]

    return {v.name: describe(v) for v in model.graph.input}, {v.name: describe(v) for v in model.graph.output}


def test_unconditional_export_contract(dcgan, tmp_path):
    path = tmp_path / "dcgan.onnx"
    report = export_generator(dcgan, path, metadata={"dataset": "digits"})
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    inputs, outputs = _graph_io(model)
    assert inputs == {"z": (TensorProto.FLOAT, ["batch", 16])}
    assert outputs == {"images": (TensorProto.FLOAT, ["batch", 8, 8, 1])}
    assert "ConvTranspose" not in {node.op_type for node in model.graph.node}  # rewritten for ORT's Conv kernels
    meta = GeneratorSession(path).metadata
    assert meta["preset"] == "dcgan_mbd_code_ema" and meta["prior"] == "normal" and meta["prior_params"] == {"mean": 0.0, "std": 1.0}
    assert meta["latent_dim"] == 16 and meta["num_classes"] is None and meta["image_shape"] == [8, 8, 1]
    assert meta["value_range"] == metadata_lib.value_range(-1, 1) and meta["dataset"] == "digits" and meta["opset"] == 17
    assert meta["inputs"] == [{"name": "z", "dtype": "float32", "shape": ["batch", 16]}]
    assert meta["outputs"] == [{"name": "images", "dtype": "float32", "shape": ["batch", 8, 8, 1]}]
    assert meta["label_out_of_range"] is None and meta["model_card"] is None
    assert [opset.domain for opset in model.opset_import] == [""]  # no unused ai.onnx.ml import
    # Every metadata value is JSON, the format marker too, and the sidecar holds the same values.
    props = {p.key: json.loads(p.value) for p in model.metadata_props}
    assert props["ganzoo.format"] == "gan-zoo-generator/2"
    assert json.loads((tmp_path / "dcgan.metadata.json").read_text()) == props
    assert {"gan-zoo", "tensorflow", "keras", "tf2onnx", "onnx"} <= set(meta["versions"])
    assert [row["batch"] for row in report.checks] == [1, 7]
    assert report.max_abs_diff <= 1e-4 and report.provider == "CPUExecutionProvider"
    assert "batch 7" in str(report)
    # The file agrees with Keras on inputs the report did not use either.
    z = np.random.default_rng(5).normal(size=(3, 16)).astype(np.float32)
    np.testing.assert_allclose(GeneratorSession(path)(z), dcgan.generator(z, training=False), atol=1e-4)


def test_conditional_run_folder_every_class(conditional_run, tmp_path):
    folder, gan = conditional_run
    path = tmp_path / "cond.onnx"
    report = run_folder.export(folder, path, opset=15)  # train reads the folder, export gets model + metadata
    inputs, _ = _graph_io(onnx.load(str(path)))
    assert inputs["label"] == (TensorProto.INT64, ["batch"])
    labels_checked = {(row["batch"], row["label"]) for row in report.checks}
    assert labels_checked == {(b, label) for b in (1, 7) for label in (0, 1, 2, "mixed")}
    assert report.max_abs_diff <= 1e-4 and report.opset == 15
    session = GeneratorSession(path)
    assert session.class_names == ["zero", "one", "two"] and session.metadata["dataset"] == "digits"
    assert session.metadata["preset"] == "conditional" and session.metadata["training"] == {"epochs": 2, "seed": 1}
    assert session.metadata["backbone"] == "dcgan"  # derived from the run's options: the config predates the key
    z = session.sample_noise(4, seed=0)
    keras_out = gan.generator([z, np.array([2, 1, 0, 2], np.int32)], training=False)
    np.testing.assert_allclose(session(z, [2, 1, 0, 2]), keras_out, atol=1e-4)


@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_out_of_range_labels_give_nan_rows_in_the_graph(conditional_run, tmp_path, precision):
    """Raw onnxruntime, no GeneratorSession checks: a bad label never yields another class's image."""
    folder, gan = conditional_run
    report = run_folder.export(folder, tmp_path / "c.onnx", fp16=precision == "fp16", int8=precision == "int8")
    assert report.metadata["label_out_of_range"] == "nan_row"
    session = ort.InferenceSession(report.path, providers=["CPUExecutionProvider"])
    labels = np.array([0, -1, 2, 3, 10**6, -20, 1], np.int64)
    z = np.random.default_rng(0).uniform(-1, 1, (len(labels), 16)).astype(np.float32)
    images = session.run(None, {"z": z, "label": labels})[0]
    valid = (labels >= 0) & (labels < 3)
    assert np.isnan(images[~valid]).all() and np.isfinite(images[valid]).all()
    keras_out = np.asarray(gan.generator([z[valid], labels[valid].astype(np.int32)], training=False))
    if precision == "int8":
        assert np.abs(images[valid] - keras_out).mean() <= 0.02
    else:
        np.testing.assert_allclose(images[valid], keras_out, atol=1e-2 if precision == "fp16" else 1e-4)


def test_int32_labels(conditional_run, tmp_path):
    folder, gan = conditional_run
    report = run_folder.export(folder, tmp_path / "c32.onnx", label_dtype="int32")
    model = onnx.load(report.path)
    assert _graph_io(model)[0]["label"] == (TensorProto.INT32, ["batch"])
    assert report.metadata["inputs"][1] == {"name": "label", "dtype": "int32", "shape": ["batch"]}
    session = ort.InferenceSession(report.path, providers=["CPUExecutionProvider"])
    labels = np.array([2, 3, -1, 0, 2**31 - 1], np.int32)
    z = np.random.default_rng(1).uniform(-1, 1, (len(labels), 16)).astype(np.float32)
    images = session.run(None, {"z": z, "label": labels})[0]
    assert np.isnan(images[[1, 2, 4]]).all()
    np.testing.assert_allclose(images[[0, 3]], gan.generator([z[[0, 3]], labels[[0, 3]]], training=False), atol=1e-4)
    np.testing.assert_allclose(GeneratorSession(report.path)(z[:1], [2]), images[:1], atol=0)  # the runtime feeds int32
    with pytest.raises(ValueError, match="label_dtype"):
        run_folder.export(folder, tmp_path / "x.onnx", label_dtype="uint8")


def test_metadata_that_disagrees_with_the_graph_fails_before_writing(conditional_run, tmp_path, monkeypatch):
    folder, _ = conditional_run
    build = exporter.build_metadata

    for change, message in [
        (lambda meta: meta.update(latent_dim=17), "latent_dim 17"),
        (lambda meta: meta.update(image_shape=[8, 8, 3]), "image_shape"),
        (lambda meta: meta.update(num_classes=4, class_names=list("abcd")), "labels"),
        (lambda meta: meta.update(class_names=["a", "b"]), "2 class_names"),
    ]:
        def tampered(*args, change=change, **kwargs):
            meta = build(*args, **kwargs)
            change(meta)
            return meta

        monkeypatch.setattr(exporter, "build_metadata", tampered)
        with pytest.raises(ValueError, match=message):
            run_folder.export(folder, tmp_path / "bad.onnx")
        assert not (tmp_path / "bad.onnx").exists()


def test_fp16_keeps_float32_io(conditional_run, tmp_path):
    folder, gan = conditional_run
    fp32 = run_folder.export(folder / "generator.keras", tmp_path / "g32.onnx")
    fp16 = run_folder.export(folder / "generator.keras", tmp_path / "g16.onnx", fp16=True)
    model = onnx.load(fp16.path)
    inputs, outputs = _graph_io(model)
    assert inputs["z"][0] == TensorProto.FLOAT and outputs["images"][0] == TensorProto.FLOAT
    big = [init for init in model.graph.initializer if len(init.dims) >= 2]
    assert big and all(init.data_type == TensorProto.FLOAT16 for init in big)
    assert fp16.tolerance == 1e-2 and fp16.max_abs_diff <= 1e-2 and fp16.precision == "fp16"
    metadata_bytes = sum(len(prop.key) + len(prop.value) for prop in model.metadata_props)
    # Half of the float32 file, plus a little graph (the metadata is a fixed ~1.5 kB in both).
    assert fp16.size_bytes - metadata_bytes < 0.6 * (fp32.size_bytes - metadata_bytes)
    # A generator.keras inside a run folder still picks up the folder's config.json.
    assert GeneratorSession(fp16.path).metadata["dataset"] == "digits"


def test_int8_quantizes_the_convs_and_matmuls_the_same_way_every_time(conditional_run, tmp_path):
    folder, gan = conditional_run
    fp32 = run_folder.export(folder, tmp_path / "f.onnx")
    int8 = run_folder.export(folder, tmp_path / "q.onnx", int8=True)
    again = run_folder.export(folder, tmp_path / "q2.onnx", int8=True)
    assert int8.precision == "int8" and int8.metadata["precision"] == "int8" and int8.mean_tolerance == 0.02
    assert max(row["mean_abs_diff"] for row in int8.checks) <= 0.02 and "mean" in str(int8)
    model = onnx.load(int8.path)
    inputs, outputs = _graph_io(model)
    assert inputs["z"][0] == TensorProto.FLOAT and outputs["images"][0] == TensorProto.FLOAT
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("QuantizeLinear") >= 2 and "DequantizeLinear" in ops
    # Each Conv and MatMul weight is int8, but the first layer's (the Dense that reads z) and, in a model this
    # small, the cheap last layer's; the Where that makes NaN rows reads floats.
    layers = [node for node in model.graph.node if node.op_type in ("Conv", "MatMul")]
    stored = {init.name: init for init in model.graph.initializer}
    quantized = {node.output[0]: node.input[0] for node in model.graph.node if node.op_type == "DequantizeLinear"}
    kinds = [stored[quantized.get(node.input[1], node.input[1])].data_type for node in layers]
    assert len(layers) >= 3 and kinds[0] == kinds[-1] == TensorProto.FLOAT
    assert all(kind == TensorProto.INT8 for kind in kinds[1:-1])
    assert int8.size_bytes < 0.6 * fp32.size_bytes
    # Calibrated on a seeded draw from the prior: the same scales and weights each time.
    def constants(m):  # by value: tf2onnx numbers its tensor names afresh in each conversion
        return sorted((init.data_type, tuple(init.dims), numpy_helper.to_array(init).tobytes()) for init in m.graph.initializer)

    assert constants(model) == constants(onnx.load(again.path))
    with pytest.raises(ValueError, match="fp16 or int8"):
        export_generator(gan, tmp_path / "x.onnx", fp16=True, int8=True)


def test_vector_generator_and_bare_model(tmp_path):
    gan = zoo.create("vanilla", data_shape=(2,), latent_dim=3, g_units=(8,))
    report = export_generator(gan.generator, tmp_path / "toy.onnx", metadata={"prior": "normal", "dataset": "ring8"})
    session = GeneratorSession(report.path)
    assert session.image_shape == (2,) and session.value_range is None and session.prior == "normal"
    assert session.metadata["preset"] is None
    assert _graph_io(onnx.load(report.path))[1] == {"images": (TensorProto.FLOAT, ["batch", 2])}


def test_parity_failure_raises(dcgan, tmp_path, monkeypatch):
    def corrupt(model):
        model = optimize_graph(model)
        init = max(model.graph.initializer, key=lambda i: np.prod(i.dims))
        init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) + 0.05, init.name))
        return model

    monkeypatch.setattr(exporter, "optimize_graph", corrupt)
    with pytest.raises(ParityError, match="differs from Keras"):
        export_generator(dcgan, tmp_path / "bad.onnx")


def test_bad_sources(tmp_path):
    with pytest.raises(FileNotFoundError):
        export_generator(tmp_path / "missing", tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="is a folder"):  # run folders are train's format, read by train
        export_generator(tmp_path, tmp_path / "x.onnx")
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        run_folder.export(tmp_path, tmp_path / "x.onnx")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ValueError, match=".keras"):
        export_generator(tmp_path / "notes.txt", tmp_path / "x.onnx")
    with pytest.raises(ValueError, match=".keras"):
        run_folder.export(tmp_path / "notes.txt", tmp_path / "x.onnx")
    gan = zoo.create("vanilla", data_shape=(2,), latent_dim=3, g_units=(8,), d_units=(8,))
    with pytest.raises(ValueError, match="inputs"):
        export_generator(gan.discriminator, tmp_path / "x.onnx")


def test_cli_export_prints_parity(conditional_run, tmp_path, capsys):
    from train.cli import main

    folder, _ = conditional_run
    out = tmp_path / "cli.onnx"
    assert main(["export", str(folder), "--out", str(out), "--fp16"]) == 0
    printed = capsys.readouterr().out
    assert "batch 1" in printed and "batch 7" in printed and "fp16" in printed and out.is_file()


def test_cli_export_int8(conditional_run, tmp_path, capsys):
    from train.cli import main

    folder, _ = conditional_run
    assert main(["export", str(folder), "--out", str(tmp_path / "q.onnx"), "--int8"]) in (0, None)
    out = capsys.readouterr().out
    assert "int8" in out and "mean" in out
    assert GeneratorSession(tmp_path / "q.onnx").metadata["precision"] == "int8"
    with pytest.raises(SystemExit) as exit_info:  # argparse: one or the other
        main(["export", str(folder), "--out", str(tmp_path / "x.onnx"), "--int8", "--fp16"])
    assert exit_info.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_cli_export_usage_errors_are_one_line_failures_are_not(conditional_run, tmp_path, monkeypatch, capsys):
    from train.cli import main

    assert main(["export", str(tmp_path / "missing"), "--out", str(tmp_path / "x.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ganzoo export: error: no model at")

    def parity_fails(*args, **kwargs):
        raise ParityError("onnxruntime differs from Keras by 0.5 (tolerance 1e-4)")

    monkeypatch.setattr(exporter, "export_generator", parity_fails)
    folder, _ = conditional_run
    with pytest.raises(ParityError):  # a real failure: the traceback reaches the user, exit status 1
        main(["export", str(folder), "--out", str(tmp_path / "x.onnx")])


# ----------------------------------------------------------------- the ConvTranspose rewrite, without TensorFlow


def _conv_transpose_model(kernel, stride, pads, cin=3, cout=4):
    rng = np.random.default_rng(kernel * 10 + stride)
    weights = rng.normal(size=(cin, cout, kernel, kernel)).astype(np.float32)
    scale = rng.uniform(0.5, 1.5, (1, cout, 1, 1)).astype(np.float32)
    shift = rng.normal(size=(1, cout, 1, 1)).astype(np.float32)
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w"], ["y"], kernel_shape=[kernel, kernel], strides=[stride, stride], pads=pads),
        helper.make_node("Mul", ["y", "scale"], ["ys"]),
        helper.make_node("Add", ["ys", "shift"], ["yb"]),
        helper.make_node("Relu", ["yb"], ["out"]),
    ]
    graph = helper.make_graph(
        nodes, "t",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", cin, 5, 5])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(a, n) for a, n in ((weights, "w"), (scale, "scale"), (shift, "shift"))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # what onnxruntime reads; onnx 1.23 would write 14
    return model


def _run(model, x):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


@pytest.mark.parametrize(
    "kernel, stride, pads, rewritten",
    [
        (5, 2, [1, 1, 2, 2], True),  # Keras 'same', stride 2, kernel 5 (the DCGAN layers)
        (4, 2, [1, 1, 1, 1], True),  # PyTorch-style DCGAN layer
        (5, 1, [2, 2, 2, 2], True),  # stride 1: a flipped Conv
        (3, 1, [0, 0, 0, 0], True),  # 'valid'
        (3, 2, [1, 1, 1, 1], False),  # odd output size: phases differ in length, left as ConvTranspose
    ],
)
def test_conv_transpose_rewrite_is_exact(kernel, stride, pads, rewritten):
    model = _conv_transpose_model(kernel, stride, pads)
    optimized = optimize_graph(model)
    onnx.checker.check_model(optimized)
    ops = [node.op_type for node in optimized.graph.node]
    assert ("ConvTranspose" not in ops) == rewritten
    if rewritten:
        assert "Mul" not in ops and "Add" not in ops  # BatchNorm folded into the Conv
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(_run(optimized, x), _run(model, x), atol=1e-5)


def test_dropout_masks_from_noise_is_the_hand_worked_dropout(tmp_path):
    """A generator that samples with its dropout on exports with its masks read from extra columns of z: a unit is
    kept where its column u >= 2 * rate - 1 and scaled by 1 / (1 - rate), worked here by hand in numpy."""
    z = keras.Input((3,), name="z")
    hidden = keras.layers.Dense(4, activation="relu", name="hidden")(z)
    out = keras.layers.Dense(2, name="out")(keras.layers.Dropout(0.25, name="drop")(hidden))
    generator = keras.Model(z, out)
    masked, info = exporter.dropout_masks_from_noise(generator)
    assert info == {"latent_dim": 3, "mask_columns": 4} and [t.shape[-1] for t in masked.inputs] == [7]
    rng = np.random.default_rng(0)
    noise = rng.uniform(-1, 1, (6, 7)).astype("float32")
    (w1, b1), (w2, b2) = (generator.get_layer(name).get_weights() for name in ("hidden", "out"))
    keep = (noise[:, 3:] >= 2 * 0.25 - 1) / 0.75
    expected = (np.maximum(noise[:, :3] @ w1 + b1, 0) * keep) @ w2 + b2
    np.testing.assert_allclose(np.asarray(masked(noise)), expected, rtol=1e-5, atol=1e-6)
    # Exported with "sampling_dropout": the file computes the same, and records where its masks are.
    export_generator(generator, tmp_path / "g.onnx", metadata={"sampling_dropout": True})
    session = GeneratorSession(tmp_path / "g.onnx", providers="cpu")
    assert session.metadata["latent_dim"] == 7 and session.metadata["dropout_masks_in_z"] == info
    assert "sampling_dropout" not in session.metadata
    np.testing.assert_allclose(session(noise), expected, rtol=1e-4, atol=1e-5)
    # The threshold is a quantile of U(-1, 1): a generator fed normal noise would keep the wrong share.
    with pytest.raises(ValueError, match="U\\(-1, 1\\) columns of z"):
        export_generator(generator, tmp_path / "n.onnx", metadata={"sampling_dropout": True, "prior": "normal"})


def test_mirza_osindero_generator_exports_with_its_dropout_masks(tmp_path):
    """The conditional preset's G samples with its dropout on: its ONNX file varies with the mask columns alone."""
    gan = zoo.create("conditional", data_shape=(8, 8, 1), num_classes=3, g_units=(16,), g_branch_units=(8, 4),
                     d_units=(8,), d_pieces=(2,), d_branch_units=(8, 4), d_branch_pieces=(2, 2))
    export_generator(gan, tmp_path / "c.onnx")
    session = GeneratorSession(tmp_path / "c.onnx", providers="cpu")
    assert session.metadata["dropout_masks_in_z"] == {"latent_dim": 100, "mask_columns": 8 + 4 + 16}
    z = session.sample_noise(16, seed=0)
    z[:, :100] = z[:1, :100]  # one z, sixteen sets of masks
    assert session(z, np.ones(16, "int64")).std(axis=0).mean() > 0
    # A bare generator exports with its dropout off (and says so) unless asked.
    with pytest.warns(UserWarning, match="dropout off"):
        export_generator(gan.generator, tmp_path / "bare.onnx")
    assert GeneratorSession(tmp_path / "bare.onnx", providers="cpu").metadata["latent_dim"] == 100
