"""Exact rewrites of a converted generator graph for onnxruntime's fast CPU kernels.

`optimize_graph` runs them in this order; each keeps the graph's outputs exactly (to float rounding) and leaves
any node it does not recognise as it is. Measured effects: benchmarks/inference.md.

1. **Transposed convolutions become convolutions** (`rewrite_conv_transpose`). onnxruntime's CPU ConvTranspose
   is a per-image GEMM plus a single-threaded col2im, while its Conv has blocked (NCHWc) kernels that fuse bias
   and activation. Stride 1 is a Conv with the kernel flipped; stride s is the sub-pixel form, one Conv producing
   the s*s phases of the output followed by DepthToSpace. A following per-channel Mul/Add (BatchNorm in inference
   mode) is folded into the weights.
2. **A Dense layer writes NCHW directly** (`fold_dense_layout`): Keras's Dense -> Reshape (NHWC) -> BatchNorm ->
   activation -> Transpose (to NCHW) becomes one MatMul whose columns are already in NCHW order, with the
   BatchNorm folded into its weights and bias, and a Reshape; the Transpose and the elementwise passes go.
3. **Upsampled maps are never written** (`convolve_phases`): a DepthToSpace followed (through elementwise
   activations) by a Conv becomes a Conv on the phases followed by the DepthToSpace, and DepthToSpaces that then
   meet merge into one. onnxruntime's DepthToSpace moves about 1-2 GB/s, slower than the arithmetic it saves;
   the phase Conv computes up to `MAX_PHASE_COST` times the multiply-adds of the Conv it replaces (taps that
   fall on no input are zero), and a phase Conv is not rewritten again, so it stops after one level.
4. **Only the taps that exist are computed** (`crop_phase_kernels`): the sub-pixel Conv of a 5x5 stride-2
   transposed convolution is 3x3 over 4 phases, but the phases read 3x3, 3x2, 2x3 and 2x2 taps (25 of 36). A
   Conv whose output channels fall into runs with smaller kernels becomes one Conv per run and a Concat that
   restores the channel order. Each extra Conv costs a kernel call, so this is done only where it saves at least
   `MIN_CROPPED_MACS` multiply-adds per sample (the 64-filter DCGAN's first layer, not the 16-filter one's).
5. **Convolutions on tiny maps are matrix products** (`small_maps_as_matmul`): on a 4x4 map a Conv's blocked
   kernel works on rows 4 pixels wide, and most of a 5x5 kernel's taps fall on the padding. The Conv is a linear
   map from C*H*W inputs to C'*H'*W' outputs; where that matrix is at least `MIN_MATRIX_DENSITY` nonzero and not
   too large (`MAX_MATRIX_ENTRIES`, `MAX_MATRIX_GROWTH`), one GEMM computes it (the 8x8 digits generators' middle
   layer: its 0.2 MB kernel becomes a 2.1 MB matrix).
"""

import math

import numpy as np
import onnx
from onnx import helper, numpy_helper

# Elementwise, one-input ops that commute with DepthToSpace and Reshape (they act on each value alone).
UNARY = ("Relu", "LeakyRelu", "Tanh", "Sigmoid", "Elu", "Selu", "Softplus", "HardSigmoid")
# A phase Conv may cost this many times the multiply-adds of the Conv it replaces (4: one level at stride 2).
MAX_PHASE_COST = 4.0
# Splitting a Conv by its kernels' zero taps pays where it saves this many multiply-adds per sample.
MIN_CROPPED_MACS = 1_000_000
# No more Convs than this from one, each with at least a vector register's block of channels (NCHWc, AVX-512).
MAX_CROPPED_RUNS = 16
MIN_RUN_CHANNELS = 16
# A Conv becomes a GEMM when its unrolled matrix is this dense, no larger than this (4 MB of float32), and at
# most this many times the Conv's weights (the file grows by the difference).
MIN_MATRIX_DENSITY = 0.5
MAX_MATRIX_ENTRIES = 1 << 20
MAX_MATRIX_GROWTH = 16
# The name part that marks the Convs `convolve_phases` made.
PHASE_CONV = "phase_conv"
# The ops that hold a layer's weights (what `layer_macs` counts).
LAYER_OPS = ("Conv", "MatMul", "Gemm")


def optimize_graph(model):
    """The rewrites above, applied to a copy of `model`; shapes are inferred again at the end."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    for node in [n for n in model.graph.node if n.op_type == "ConvTranspose"]:
        rewrite_conv_transpose(model, node)
    fold_dense_layout(model)
    convolve_phases(model)
    crop_phase_kernels(model)
    small_maps_as_matmul(model)
    drop_unused_initializers(model)
    # value_info from tf2onnx describes tensors that no longer exist; shape inference redoes it.
    del model.graph.value_info[:]
    return onnx.shape_inference.infer_shapes(model)


# --------------------------------------------------------------------------- graph helpers


def initializers(model):
    return {init.name: init for init in model.graph.initializer}


def consumers(model, name):
    return [node for node in model.graph.node if name in node.input]


def producer(model, name):
    return next((node for node in model.graph.node if name in node.output), None)


def is_output(model, name):
    return any(value.name == name for value in model.graph.output)


def attributes(node):
    return {attr.name: helper.get_attribute_value(attr) for attr in node.attribute}


def rename_input(model, old, new):
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new


def _only_feeds(model, node):
    """The single consumer of `node`'s output, or None when it has several or the output is the graph's."""
    users = consumers(model, node.output[0])
    return users[0] if len(users) == 1 and not is_output(model, node.output[0]) else None


def _constant(model, name):
    init = initializers(model).get(name)
    return None if init is None else numpy_helper.to_array(init)


def _add_constant(model, array, name):
    model.graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
    return name


def _replace(model, old_nodes, new_nodes):
    """Put `new_nodes` where the last of `old_nodes` stood, and remove `old_nodes`.

    Valid when the new nodes read only what existed before the first old node (or each other), and the old
    chain's outputs that others read are produced again under the same names.
    """
    nodes = list(model.graph.node)
    last = max(nodes.index(node) for node in old_nodes)
    at = last - sum(nodes.index(node) < last for node in old_nodes)
    for node in old_nodes:
        model.graph.node.remove(node)
    for offset, node in enumerate(new_nodes):
        model.graph.node.insert(at + offset, node)


def _copy_unary(node, source, output, suffix=None):
    name = node.name if suffix is None else f"{node.name or node.output[0]}/{suffix}"
    return helper.make_node(node.op_type, [source], [output], name=name, **attributes(node))


def _unary_chain(model, start):
    """(the elementwise nodes that follow the tensor `start` one after another, the node after them)."""
    chain = []
    name = start
    while True:
        users = consumers(model, name)
        if len(users) != 1 or is_output(model, name):
            return chain, None
        if users[0].op_type not in UNARY:
            return chain, users[0]
        chain.append(users[0])
        name = users[0].output[0]


def _rechain(chain, source, output, suffix):
    """Copies of the elementwise `chain` reading `source`; the last writes `output` (the source if empty)."""
    nodes = []
    for i, node in enumerate(chain):
        target = output if i == len(chain) - 1 else f"{node.output[0]}/{suffix}"
        nodes.append(_copy_unary(node, source, target, suffix))
        source = target
    return nodes, source


def drop_unused_opset_imports(model):
    """tf2onnx always imports ai.onnx.ml; keep only the domains some node uses (and the default one)."""
    used = {node.domain for node in model.graph.node} | {""}
    keep = [opset for opset in model.opset_import if opset.domain in used]
    del model.opset_import[:]
    model.opset_import.extend(keep)


def drop_unused_initializers(model):
    used = {name for node in model.graph.node for name in node.input}
    keep = [init for init in model.graph.initializer if init.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)


def sort_topologically(graph):
    """Order graph.node so every input is produced before it is used (as onnx.checker requires)."""
    available = {value.name for value in graph.input} | {init.name for init in graph.initializer} | {""}
    pending = list(graph.node)
    ordered = []
    while pending:
        ready = [node for node in pending if all(name in available for name in node.input)]
        if not ready:
            raise RuntimeError("the graph has a cycle or an undefined input")
        for node in ready:
            ordered.append(node)
            available.update(node.output)
        pending = [node for node in pending if node not in ready]
    copies = [onnx.NodeProto.FromString(node.SerializeToString()) for node in ordered]
    del graph.node[:]
    graph.node.extend(copies)


# --------------------------------------------------------------------------- 1. ConvTranspose -> Conv


def _channel_vector(array, channels):
    """A per-channel constant broadcast over NCHW (shape (C,1,1) or (1,C,1,1)) as a (C,) vector, else None."""
    if array.ndim in (3, 4) and array.shape[-3] == channels and math.prod(array.shape) == channels:
        return array.reshape(channels)
    if array.size == 1:
        return np.full((channels,), array.reshape(()), array.dtype)
    return None


def fold_channel_affine(model, node, weights, bias):
    """Fold a following per-channel Mul and Add into (weights, bias) of `node` (ConvTranspose layout)."""
    inits = initializers(model)
    output = node.output[0]
    channels = weights.shape[1]
    for op in ("Mul", "Add"):
        users = consumers(model, output)
        if len(users) != 1 or users[0].op_type != op or is_output(model, output):
            continue
        follower = users[0]
        other = follower.input[1] if follower.input[0] == output else follower.input[0]
        if other not in inits or is_output(model, follower.output[0]):
            continue
        vector = _channel_vector(numpy_helper.to_array(inits[other]), channels)
        if vector is None:
            continue
        if op == "Mul":
            weights = weights * vector[None, :, None, None]
            bias = bias * vector
        else:
            bias = bias + vector
        model.graph.node.remove(follower)
        rename_input(model, follower.output[0], output)
    return weights, bias


def phase_taps(kernel, stride, pad_begin, pad_end):
    """For one spatial axis of a ConvTranspose: per output phase a, {conv tap j: kernel index}.

    Output o = s*q + a receives x[i] * w[k] where o = s*i + k - pad_begin. Fixing the phase, the
    taps are k = r + s*m (r = (a + pad_begin) mod s) reading x[q + c - m], c = (a + pad_begin - r) / s:
    a correlation over offsets d = c - m, which one Conv covers for all phases. Returns
    (taps, conv_pad_begin, conv_pad_end, conv_kernel_size) or None if it needs negative padding.
    """
    if (kernel - pad_begin - pad_end) % stride:
        return None  # the phases would differ in length
    phases = []
    for a in range(stride):
        r = (a + pad_begin) % stride
        c = (a + pad_begin - r) // stride
        taps = {c - m: r + stride * m for m in range(math.ceil((kernel - r) / stride))}
        phases.append(taps)
    d_min = min(min(taps) for taps in phases)
    d_max = max(max(taps) for taps in phases)
    size = d_max - d_min + 1
    conv_pad_begin = -d_min
    conv_pad_end = (kernel - pad_begin - pad_end) // stride - 1 + size - 1 - conv_pad_begin
    if conv_pad_begin < 0 or conv_pad_end < 0:
        return None
    return [{d - d_min: k for d, k in taps.items()} for taps in phases], conv_pad_begin, conv_pad_end, size


def rewrite_conv_transpose(model, node):
    """Replace one 2-D ConvTranspose by Conv (+ DepthToSpace); False if its form is not handled."""
    inits = initializers(model)
    attrs = attributes(node)
    if node.input[1] not in inits or is_output(model, node.output[0]):
        return False
    weights = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)  # (Cin, Cout, kh, kw)
    if weights.ndim != 4 or attrs.get("group", 1) != 1 or "output_shape" in attrs:
        return False
    if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        return False
    if any(d != 1 for d in attrs.get("dilations", [1, 1])) or any(attrs.get("output_padding", [0, 0])):
        return False
    strides = list(attrs.get("strides", [1, 1]))
    if strides[0] != strides[1]:
        return False
    stride = strides[0]
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    in_channels, out_channels, kh, kw = weights.shape
    rows = phase_taps(kh, stride, pads[0], pads[2])
    cols = phase_taps(kw, stride, pads[1], pads[3])
    if rows is None or cols is None:
        return False
    bias = (
        numpy_helper.to_array(inits[node.input[2]]).astype(np.float32)
        if len(node.input) > 2 and node.input[2]
        else np.zeros(out_channels, np.float32)
    )
    if len(node.input) > 2 and node.input[2] and node.input[2] not in inits:
        return False
    weights, bias = fold_channel_affine(model, node, weights, bias)

    row_taps, pad_top, pad_bottom, size_h = rows
    col_taps, pad_left, pad_right, size_w = cols
    conv_weights = np.zeros((stride * stride, out_channels, in_channels, size_h, size_w), np.float32)
    for a, taps_a in enumerate(row_taps):
        for b, taps_b in enumerate(col_taps):
            for j, ky in taps_a.items():
                for i, kx in taps_b.items():
                    conv_weights[a * stride + b, :, :, j, i] = weights[:, :, ky, kx].T
    conv_weights = conv_weights.reshape(stride * stride * out_channels, in_channels, size_h, size_w)
    conv_bias = np.tile(bias, stride * stride)

    base = node.name or node.output[0]
    w_name = _add_constant(model, conv_weights, f"{base}/conv_weights")
    b_name = _add_constant(model, conv_bias, f"{base}/conv_bias")
    output = node.output[0]
    conv_out = output if stride == 1 else f"{base}/phases"
    new_nodes = [
        helper.make_node(
            "Conv",
            [node.input[0], w_name, b_name],
            [conv_out],
            name=f"{base}/conv",
            kernel_shape=[size_h, size_w],
            pads=[pad_top, pad_left, pad_bottom, pad_right],
            strides=[1, 1],
        )
    ]
    old_nodes = [node]
    if stride > 1:
        # An elementwise activation commutes with DepthToSpace: apply it first so it fuses into Conv.
        activation = _only_feeds(model, node)
        if activation is not None and activation.op_type in UNARY:
            old_nodes.append(activation)
            activated = f"{base}/activated_phases"
            new_nodes.append(_copy_unary(activation, conv_out, activated))
            conv_out, output = activated, activation.output[0]
        new_nodes.append(
            helper.make_node("DepthToSpace", [conv_out], [output], name=f"{base}/depth_to_space", blocksize=stride,
                             mode="DCR")
        )
    _replace(model, old_nodes, new_nodes)
    return True


# --------------------------------------------------------------------------- 2. Dense -> NCHW


def fold_dense_layout(model):
    """MatMul [-> Add] -> Reshape (N, H, W, C) -> per-channel Mul/Add -> elementwise -> Transpose to NCHW,
    as MatMul (columns in NCHW order, the affine folded) -> Add -> Reshape (N, C, H, W) -> elementwise.

    Returns the number of chains rewritten.
    """
    count = 0
    for transpose in [n for n in model.graph.node if n.op_type == "Transpose"]:
        count += _fold_dense_chain(model, transpose)
    return count


def _fold_dense_chain(model, transpose):
    if list(attributes(transpose).get("perm", [])) != [0, 3, 1, 2]:
        return False
    chain = []  # from the Reshape's output to the Transpose's input, in graph order
    node = producer(model, transpose.input[0])
    while node is not None and node.op_type in UNARY + ("Mul", "Add") and _only_feeds(model, node) is not None:
        chain.insert(0, node)
        node = producer(model, node.input[0])
    if node is None or node.op_type != "Reshape" or _only_feeds(model, node) is None:
        return False
    reshape = node
    shape = _constant(model, reshape.input[1])
    if shape is None or shape.shape != (4,) or shape[0] not in (-1, 0) or min(shape[1:]) <= 0:
        return False
    height, width, channels = (int(d) for d in shape[1:])
    bias_node = None
    node = producer(model, reshape.input[0])
    if node is not None and node.op_type == "Add" and _only_feeds(model, node) is not None:
        bias_node, node = node, producer(model, node.input[0])
    if node is None or node.op_type != "MatMul" or _only_feeds(model, node) is None:
        return False
    matmul = node
    weights = _constant(model, matmul.input[1])
    if weights is None or weights.ndim != 2 or weights.shape[1] != height * width * channels:
        return False
    weights = weights.astype(np.float32)
    bias = np.zeros(weights.shape[1], np.float32)
    if bias_node is not None:
        vector = _constant(model, bias_node.input[1])
        if vector is None or vector.size not in (1, weights.shape[1]) or bias_node.input[0] != matmul.output[0]:
            return False
        bias = bias + vector.reshape(-1).astype(np.float32)

    # The affine ops fold into (weights, bias) while they come before every elementwise op.
    scale_shift, activations = [], []
    for node in chain:
        if node.op_type in ("Mul", "Add") and not activations:
            vector = _constant(model, node.input[1])
            if vector is None or vector.size not in (1, channels) or (vector.ndim and vector.shape[-1] != vector.size):
                return False
            scale_shift.append((node.op_type, np.broadcast_to(vector.reshape(-1), (channels,)).astype(np.float32)))
        elif node.op_type in UNARY:
            activations.append(node)
        else:
            return False  # an affine after an activation does not fold
    for op, vector in scale_shift:
        per_column = np.tile(vector, height * width)  # NHWC columns: channel fastest
        if op == "Mul":
            weights, bias = weights * per_column, bias * per_column
        else:
            bias = bias + per_column

    # Column (h, w, c) moves to (c, h, w).
    order = np.arange(height * width * channels).reshape(height, width, channels).transpose(2, 0, 1).reshape(-1)
    base = matmul.name or matmul.output[0]
    w_name = _add_constant(model, weights[:, order], f"{base}/nchw_weights")
    b_name = _add_constant(model, bias[order], f"{base}/nchw_bias")
    s_name = _add_constant(model, np.array([shape[0], channels, height, width], np.int64), f"{base}/nchw_shape")
    new_nodes = [
        helper.make_node("MatMul", [matmul.input[0], w_name], [f"{base}/nchw"], name=f"{base}/nchw_matmul"),
        helper.make_node("Add", [f"{base}/nchw", b_name], [f"{base}/nchw_biased"], name=f"{base}/nchw_bias"),
    ]
    activated, last = _rechain(activations, f"{base}/nchw_biased", f"{base}/nchw_activated", "nchw")
    new_nodes += activated
    new_nodes.append(helper.make_node("Reshape", [last, s_name], [transpose.output[0]], name=f"{base}/nchw_reshape"))
    _replace(model, [matmul, reshape, transpose] + chain + ([bias_node] if bias_node else []), new_nodes)
    return True


# --------------------------------------------------------------------------- 3. convolve the phases


def convolve_phases(model):
    """Move each DepthToSpace past the Conv it feeds, and merge DepthToSpaces that meet; see the note above.

    Returns the number of rewrites.
    """
    count = 0
    changed = True
    while changed:
        changed = False
        for node in [n for n in model.graph.node if n.op_type == "DepthToSpace"]:
            if _merge_depth_to_space(model, node) or _conv_after_depth_to_space(model, node):
                count += 1
                changed = True
                break
    return count


def _depth_to_space_block(node):
    attrs = attributes(node)
    mode = attrs.get("mode", b"DCR")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    return attrs["blocksize"] if mode == "DCR" else None


def _plain_conv(model, conv):
    """(weights (Cout, Cin, kh, kw), bias (Cout,), pads) of a stride-1 ungrouped Conv with constants, else None."""
    attrs = attributes(conv)
    if conv.op_type != "Conv" or attrs.get("group", 1) != 1:
        return None
    if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        return None
    if any(s != 1 for s in attrs.get("strides", [1, 1])) or any(d != 1 for d in attrs.get("dilations", [1, 1])):
        return None
    weights = _constant(model, conv.input[1])
    if weights is None or weights.ndim != 4:
        return None
    bias = _constant(model, conv.input[2]) if len(conv.input) > 2 and conv.input[2] else np.zeros(weights.shape[0])
    if bias is None:
        return None
    return weights.astype(np.float32), bias.astype(np.float32), list(attrs.get("pads", [0, 0, 0, 0]))


def _phase_axis(kernel, stride, pad_begin, pad_end):
    """For one axis of a stride-1 Conv on a map upsampled by DepthToSpace(stride): where each tap lands.

    Output row s*q + a, tap d reads input row s*q + a + d - pad_begin = s*(q + e) + p: input phase p at
    offset e on the phase grid. Returns ({(a, d): (p, e - e_min)}, phase kernel size, pad begin, pad end),
    or None when the output length is not a multiple of the stride.
    """
    grow = pad_begin + pad_end - kernel + 1  # output length - input length
    if grow % stride:
        return None
    e_min = (0 - pad_begin) // stride
    e_max = (stride - 1 + kernel - 1 - pad_begin) // stride
    size = e_max - e_min + 1
    begin = -e_min
    end = grow // stride - begin + size - 1
    if end < 0:
        return None
    taps = {}
    for a in range(stride):
        for d in range(kernel):
            t = a + d - pad_begin
            taps[a, d] = (t % stride, t // stride - e_min)
    return taps, size, begin, end


def _conv_after_depth_to_space(model, depth_to_space):
    """DepthToSpace(P) -> elementwise -> Conv  =>  elementwise(P) -> phase Conv -> DepthToSpace."""
    stride = _depth_to_space_block(depth_to_space)
    if stride is None or is_output(model, depth_to_space.output[0]):
        return False
    chain, conv = _unary_chain(model, depth_to_space.output[0])
    if conv is None or conv.input[0] != (chain[-1].output[0] if chain else depth_to_space.output[0]):
        return False
    plain = _plain_conv(model, conv)
    if plain is None or PHASE_CONV in conv.name:
        return False  # a phase Conv already computes up to MAX_PHASE_COST x; again would multiply it
    weights, bias, pads = plain
    out_channels, channels, kh, kw = weights.shape
    rows = _phase_axis(kh, stride, pads[0], pads[2])
    cols = _phase_axis(kw, stride, pads[1], pads[3])
    if rows is None or cols is None:
        return False
    (row_taps, size_h, top, bottom), (col_taps, size_w, left, right) = rows, cols
    phases = stride * stride
    if phases * phases * size_h * size_w > MAX_PHASE_COST * phases * kh * kw:
        return False  # per output pixel: phases x (phases x size) taps against phases x (kh x kw)
    phase_weights = np.zeros((phases, out_channels, phases, channels, size_h, size_w), np.float32)
    for (a, dy), (p, ey) in row_taps.items():
        for (b, dx), (r, ex) in col_taps.items():
            phase_weights[a * stride + b, :, p * stride + r, :, ey, ex] += weights[:, :, dy, dx]
    phase_weights = phase_weights.reshape(phases * out_channels, phases * channels, size_h, size_w)

    base = conv.name or conv.output[0]
    w_name = _add_constant(model, phase_weights, f"{base}/phase_weights")
    b_name = _add_constant(model, np.tile(bias, phases), f"{base}/phase_bias")
    new_nodes, source = _rechain(chain, depth_to_space.input[0], f"{base}/phase_input", "phases")
    new_nodes.append(
        helper.make_node("Conv", [source, w_name, b_name], [f"{base}/phase_output"], name=f"{base}/{PHASE_CONV}",
                         kernel_shape=[size_h, size_w], pads=[top, left, bottom, right], strides=[1, 1])
    )
    new_nodes.append(
        helper.make_node("DepthToSpace", [f"{base}/phase_output"], [conv.output[0]], name=f"{base}/depth_to_space",
                         blocksize=stride, mode="DCR")
    )
    _replace(model, [depth_to_space, *chain, conv], new_nodes)
    return True


def _merge_depth_to_space(model, first):
    """Conv -> elementwise -> DepthToSpace(s1) -> elementwise -> DepthToSpace(s2)
    =>  Conv (output channels reordered) -> elementwise -> DepthToSpace(s1 * s2)."""
    s1 = _depth_to_space_block(first)
    if s1 is None:
        return False
    after, second = _unary_chain(model, first.output[0])
    if second is None or second.op_type != "DepthToSpace" or _depth_to_space_block(second) is None:
        return False
    if second.input[0] != (after[-1].output[0] if after else first.output[0]):
        return False
    s2 = _depth_to_space_block(second)
    before = []
    node = producer(model, first.input[0])
    while node is not None and node.op_type in UNARY and _only_feeds(model, node) is not None:
        before.insert(0, node)
        node = producer(model, node.input[0])
    conv = node
    if conv is None or conv.op_type != "Conv" or _only_feeds(model, conv) is None:
        return False
    weights = _constant(model, conv.input[1])
    bias = _constant(model, conv.input[2]) if len(conv.input) > 2 and conv.input[2] else None
    if weights is None or (len(conv.input) > 2 and conv.input[2] and bias is None):
        return False
    channels = weights.shape[0] // (s1 * s1 * s2 * s2)  # the channels of the final map
    # Q[(i*s1 + j)*Cy + (a*s2 + b)*C + c] lands where one DepthToSpace(s1*s2) reads R[(I*S + J)*C + c],
    # I = s2*i + a, J = s2*j + b (out[c, h*bs + i, w*bs + j] = in[(i*bs + j)*C + c, h, w] for DCR).
    block = s1 * s2
    source = np.empty(weights.shape[0], np.int64)
    for i in range(s1):
        for j in range(s1):
            for a in range(s2):
                for b in range(s2):
                    q = ((i * s1 + j) * s2 * s2 + a * s2 + b) * channels
                    r = ((s2 * i + a) * block + s2 * j + b) * channels
                    source[r : r + channels] = np.arange(q, q + channels)
    base = conv.name or conv.output[0]
    inputs = [conv.input[0], _add_constant(model, weights[source], f"{base}/merged_weights")]
    if bias is not None:
        inputs.append(_add_constant(model, bias[source], f"{base}/merged_bias"))
    new_conv = helper.make_node("Conv", inputs, [f"{base}/merged_output"], name=f"{base}/merged", **attributes(conv))
    new_nodes = [new_conv]
    activated, last = _rechain(before + after, f"{base}/merged_output", f"{base}/merged_activated", "merged")
    new_nodes += activated
    new_nodes.append(
        helper.make_node("DepthToSpace", [last], [second.output[0]], name=f"{base}/depth_to_space",
                         blocksize=block, mode="DCR")
    )
    _replace(model, [conv, *before, first, *after, second], new_nodes)
    return True


# --------------------------------------------------------------------------- 4. crop the phases' kernels


def _support(weights):
    """(row start, row end, column start, column end), inclusive, of the nonzero taps of (C, Cin, kh, kw)."""
    taps = np.abs(weights).sum(axis=(0, 1)) > 0
    rows, cols = np.where(taps.any(axis=1))[0], np.where(taps.any(axis=0))[0]
    if not len(rows):
        return (0, 0, 0, 0)
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def _runs(weights):
    """[(first channel, end channel, support)] for the runs of output channels with the same support."""
    runs = []
    for channel in range(weights.shape[0]):
        support = _support(weights[channel : channel + 1])
        if runs and runs[-1][2] == support:
            runs[-1][1] = channel + 1
        else:
            runs.append([channel, channel + 1, support])
    return [tuple(run) for run in runs]


def spatial_sizes(model):
    """{tensor name: (height, width)} for the 4-D tensors whose spatial sizes shape inference knows."""
    bare = onnx.ModelProto.FromString(model.SerializeToString())
    del bare.graph.value_info[:]  # tf2onnx's entries describe tensors the rewrites removed
    inferred = onnx.shape_inference.infer_shapes(bare)
    sizes = {}
    for value in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if len(dims) == 4 and dims[2].dim_value and dims[3].dim_value:
            sizes[value.name] = (dims[2].dim_value, dims[3].dim_value)
    return sizes


def layer_macs(model):
    """{node name: multiply-adds per sample} of each Conv / MatMul / Gemm with a constant weight, in an fp32,
    fp16 or int8 (QDQ: the weight read through its DequantizeLinear) graph."""
    sizes = spatial_sizes(model)
    weights = {init.name: math.prod(init.dims) for init in model.graph.initializer}
    dequantized = {node.output[0]: node.input[0] for node in model.graph.node if node.op_type == "DequantizeLinear"}
    macs = {}
    for node in model.graph.node:
        if node.op_type in LAYER_OPS and len(node.input) > 1:
            weight = dequantized.get(node.input[1], node.input[1])
            if weight in weights:
                height, width = sizes.get(node.output[0], (1, 1)) if node.op_type == "Conv" else (1, 1)
                macs[node.name] = weights[weight] * height * width
    return macs


def crop_phase_kernels(model):
    """Split each Conv whose channel runs have smaller kernels into one Conv per run and a Concat.

    Returns the number of Convs split.
    """
    sizes = None
    count = 0
    for conv in [n for n in model.graph.node if n.op_type == "Conv"]:
        plain = _plain_conv(model, conv)
        if plain is None or is_output(model, conv.output[0]):
            continue
        weights, bias, pads = plain
        out_channels, in_channels, kh, kw = weights.shape
        runs = _runs(weights)
        if not 2 <= len(runs) <= MAX_CROPPED_RUNS or min(end - start for start, end, _ in runs) < MIN_RUN_CHANNELS:
            continue
        sizes = spatial_sizes(model) if sizes is None else sizes
        if conv.output[0] not in sizes:
            continue
        height, width = sizes[conv.output[0]]
        kept = sum((end - start) * (r1 - r0 + 1) * (c1 - c0 + 1) for start, end, (r0, r1, c0, c1) in runs)
        if (out_channels * kh * kw - kept) * in_channels * height * width < MIN_CROPPED_MACS:
            continue
        crops = [(pads[0] - r0, pads[1] - c0, pads[2] - (kh - 1 - r1), pads[3] - (kw - 1 - c1))
                 for _, _, (r0, r1, c0, c1) in runs]
        if min(min(crop) for crop in crops) < 0:
            continue  # the cropped kernel would need the input cropped too
        chain, _ = _unary_chain(model, conv.output[0])
        base = conv.name or conv.output[0]
        new_nodes, parts = [], []
        for i, ((start, end, (r0, r1, c0, c1)), crop) in enumerate(zip(runs, crops)):
            w_name = _add_constant(model, weights[start:end, :, r0 : r1 + 1, c0 : c1 + 1], f"{base}/run{i}_weights")
            b_name = _add_constant(model, bias[start:end], f"{base}/run{i}_bias")
            new_nodes.append(
                helper.make_node("Conv", [conv.input[0], w_name, b_name], [f"{base}/run{i}"], name=f"{base}/run{i}",
                                 kernel_shape=[r1 - r0 + 1, c1 - c0 + 1], pads=list(crop), strides=[1, 1])
            )
            # The activations go on each run, where they fuse into its Conv.
            activated, last = _rechain(chain, f"{base}/run{i}", f"{base}/run{i}_activated", f"run{i}")
            new_nodes += activated
            parts.append(last)
        output = chain[-1].output[0] if chain else conv.output[0]
        new_nodes.append(helper.make_node("Concat", parts, [output], name=f"{base}/runs", axis=1))
        _replace(model, [conv, *chain], new_nodes)
        count += 1
    return count


# --------------------------------------------------------------------------- 5. tiny maps as GEMMs


def conv_matrix(weights, pads, height, width):
    """The (C*H*W, C'*H'*W') matrix of a stride-1 Conv on an H x W map, rows and columns in NCHW order."""
    out_channels, channels, kh, kw = weights.shape
    out_h, out_w = height + pads[0] + pads[2] - kh + 1, width + pads[1] + pads[3] - kw + 1
    matrix = np.zeros((channels, height, width, out_channels, out_h, out_w), np.float32)
    for dy in range(kh):
        for dx in range(kw):
            for y in range(out_h):
                for x in range(out_w):
                    iy, ix = y + dy - pads[0], x + dx - pads[1]
                    if 0 <= iy < height and 0 <= ix < width:
                        matrix[:, iy, ix, :, y, x] += weights[:, :, dy, dx].T
    return matrix.reshape(channels * height * width, out_channels * out_h * out_w), (out_h, out_w)


def small_maps_as_matmul(model):
    """Each Conv whose unrolled matrix is dense and small enough becomes Reshape -> MatMul -> Add -> Reshape.

    Returns the number of Convs rewritten.
    """
    sizes = None
    count = 0
    for conv in [n for n in model.graph.node if n.op_type == "Conv"]:
        plain = _plain_conv(model, conv)
        if plain is None:
            continue
        weights, bias, pads = plain
        out_channels, channels, kh, kw = weights.shape
        sizes = spatial_sizes(model) if sizes is None else sizes
        if conv.input[0] not in sizes:
            continue
        height, width = sizes[conv.input[0]]
        out_h, out_w = height + pads[0] + pads[2] - kh + 1, width + pads[1] + pads[3] - kw + 1
        entries = channels * height * width * out_channels * out_h * out_w
        if entries > MAX_MATRIX_ENTRIES or entries > MAX_MATRIX_GROWTH * weights.size:
            continue
        matrix, _ = conv_matrix(np.where(weights == 0, 0, 1).astype(np.float32), pads, height, width)
        if np.count_nonzero(matrix) < MIN_MATRIX_DENSITY * matrix.size:
            continue  # mostly padding taps or zero taps: the Conv does less work
        matrix, _ = conv_matrix(weights, pads, height, width)
        base = conv.name or conv.output[0]
        flat = _add_constant(model, np.array([-1, channels * height * width], np.int64), f"{base}/flat_shape")
        unflat = _add_constant(model, np.array([-1, out_channels, out_h, out_w], np.int64), f"{base}/map_shape")
        new_nodes = [
            helper.make_node("Reshape", [conv.input[0], flat], [f"{base}/flat"], name=f"{base}/flatten"),
            helper.make_node("MatMul", [f"{base}/flat", _add_constant(model, matrix, f"{base}/matrix")],
                             [f"{base}/product"], name=f"{base}/matmul"),
            helper.make_node("Add", [f"{base}/product", _add_constant(model, np.repeat(bias, out_h * out_w),
                                                                     f"{base}/matrix_bias")],
                             [f"{base}/biased"], name=f"{base}/matmul_bias"),
        ]
        # Elementwise activations stay on the flat product, where they fuse into the GEMM.
        chain, _ = _unary_chain(model, conv.output[0])
        activated, last = _rechain(chain, f"{base}/biased", f"{base}/activated", "flat")
        new_nodes += activated
        output = chain[-1].output[0] if chain else conv.output[0]
        new_nodes.append(helper.make_node("Reshape", [last, unflat], [output], name=f"{base}/unflatten"))
        _replace(model, [conv, *chain], new_nodes)
        count += 1
    return count
