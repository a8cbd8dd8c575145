// Sampling a GAN Zoo generator from JavaScript, with onnxruntime-web or onnxruntime-node (passed in
// as `ort`). Everything comes from the export's `<model>.metadata.json` sidecar, since neither
// JavaScript runtime has an API for ONNX metadata.

export const FORMAT = "gan-zoo-generator/2";

export function checkMetadata(metadata) {
  if (metadata["ganzoo.format"] !== FORMAT) {
    throw new Error(`not a GAN Zoo ${FORMAT} sidecar (ganzoo.format is ${metadata["ganzoo.format"]})`);
  }
  return metadata;
}

// mulberry32: a tiny seeded PRNG (uniform in [0, 1)), so the same seed gives the same noise everywhere.
export function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// n latent vectors from the recorded prior: uniform {low, high}, or normal {mean, std} by Box-Muller.
export function sampleNoise(metadata, n, random) {
  const z = new Float32Array(n * metadata.latent_dim);
  const p = metadata.prior_params;
  for (let i = 0; i < z.length; i++) {
    if (metadata.prior === "uniform") {
      z[i] = p.low + (p.high - p.low) * random();
    } else if (metadata.prior === "normal") {
      z[i] = p.mean + p.std * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    } else {
      throw new Error(`unknown prior ${metadata.prior}`);
    }
  }
  return z;
}

// Labels for a grid with one column per class: 0, 1, ..., C-1, 0, 1, ...
export function labelsByClass(metadata, n) {
  return Array.from({ length: n }, (_, i) => i % metadata.num_classes);
}

// G(z[, labels]) as a Float32Array of n images. Labels go in the graph's type (int64, or int32 for
// WebGL exports); a label outside [0, num_classes) gives a NaN image (metadata.label_out_of_range).
export async function generate(ort, session, metadata, z, labels) {
  const n = z.length / metadata.latent_dim;
  const feeds = { z: new ort.Tensor("float32", z, [n, metadata.latent_dim]) };
  if (metadata.num_classes !== null) {
    const spec = metadata.inputs.find((input) => input.name === "label");
    const data = spec.dtype === "int32" ? Int32Array.from(labels) : BigInt64Array.from(labels, (l) => BigInt(l));
    feeds.label = new ort.Tensor(spec.dtype, data, [n]);
  }
  const results = await session.run(feeds);
  return results[metadata.outputs[0].name].data;
}

// Float samples in value_range -> uint8, as value_range.to_uint8 says (NaN becomes 0).
export function toUint8(metadata, samples) {
  const { min, max } = metadata.value_range;
  const scale = 255 / (max - min);
  return Uint8ClampedArray.from(samples, (x) => Math.round((x - min) * scale));
}

// Tile n HWC uint8 images into one RGBA grid, laid out as the Python runtime's save_grid:
// `padding` black pixels around tiles, `nrow` tiles per row, each pixel repeated `scale` times.
export function tileGrid(metadata, pixels, n, { nrow, padding = 2, scale } = {}) {
  const [height, width, channels] = metadata.image_shape;
  nrow = nrow || Math.ceil(Math.sqrt(n));
  scale = scale || Math.max(1, Math.ceil(64 / Math.max(height, width)));
  const rows = Math.ceil(n / nrow);
  const gridWidth = (nrow * (width + padding) + padding) * scale;
  const gridHeight = (rows * (height + padding) + padding) * scale;
  const rgba = new Uint8ClampedArray(gridWidth * gridHeight * 4);
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
  for (let k = 0; k < n; k++) {
    const top = padding + Math.floor(k / nrow) * (height + padding);
    const left = padding + (k % nrow) * (width + padding);
    for (let y = 0; y < height * scale; y++) {
      for (let x = 0; x < width * scale; x++) {
        const source = ((k * height + Math.floor(y / scale)) * width + Math.floor(x / scale)) * channels;
        const target = ((top * scale + y) * gridWidth + left * scale + x) * 4;
        for (let c = 0; c < 3; c++) rgba[target + c] = pixels[source + (channels === 1 ? 0 : c)];
      }
    }
  }
  return { width: gridWidth, height: gridHeight, rgba };
}
