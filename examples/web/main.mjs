// Sample a grid from a GAN Zoo generator with onnxruntime-web (wasm) and draw it to a canvas.
// Serve the repository root (python -m http.server) and open /examples/web/.
import * as ort from "./node_modules/onnxruntime-web/dist/ort.wasm.min.mjs";
import * as ganzoo from "../common/ganzoo.mjs";

// One thread: multi-threaded wasm needs a cross-origin-isolated page (COOP/COEP headers).
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = new URL("./node_modules/onnxruntime-web/dist/", import.meta.url).href;

const MODELS = new URL("../../saved_models/", import.meta.url);

export async function loadGenerator(name) {
  const metadata = ganzoo.checkMetadata(await (await fetch(new URL(`${name}.metadata.json`, MODELS))).json());
  const session = await ort.InferenceSession.create(new URL(`${name}.onnx`, MODELS).href, {
    executionProviders: ["wasm"],
  });
  return { session, metadata };
}

// Draw n samples on `canvas`: noise from the metadata's prior with `seed`, or `z` (Float32Array)
// and `labels` given by the caller; one column per class for conditional models.
export async function drawGrid(canvas, { session, metadata }, { n, seed = 0, z, labels }) {
  const conditional = metadata.num_classes !== null;
  n = z ? z.length / metadata.latent_dim : n || (conditional ? 10 * metadata.num_classes : 64);
  z = z || ganzoo.sampleNoise(metadata, n, ganzoo.mulberry32(seed));
  labels = conditional ? labels || ganzoo.labelsByClass(metadata, n) : null;
  const samples = await ganzoo.generate(ort, session, metadata, z, labels);
  const grid = ganzoo.tileGrid(metadata, ganzoo.toUint8(metadata, samples), n, {
    nrow: conditional ? metadata.num_classes : undefined,
  });
  canvas.width = grid.width;
  canvas.height = grid.height;
  const context = canvas.getContext("2d");
  context.putImageData(new ImageData(grid.rgba, grid.width, grid.height), 0, 0);
  return context.getImageData(0, 0, grid.width, grid.height);
}

// The page: ?model=NAME&seed=S&n=N. A test passes ?input=URL (JSON {z, labels}) and ?report=URL,
// which receives the drawn RGBA pixels (or the error) by POST.
export async function runFromQuery(query, canvas, status) {
  const report = query.get("report");
  try {
    const generator = await loadGenerator(query.get("model") || "conditional_dcgan_digits");
    const options = { seed: Number(query.get("seed") || 0), n: Number(query.get("n") || 0) };
    if (query.get("input")) {
      const input = await (await fetch(query.get("input"))).json();
      Object.assign(options, { z: Float32Array.from(input.z), labels: input.labels });
    }
    const drawn = await drawGrid(canvas, generator, options);
    status.textContent = `${generator.metadata.preset} on onnxruntime-web ${ort.env.versions.web} (wasm)`;
    if (report) {
      await fetch(`${report}?width=${drawn.width}&height=${drawn.height}`, { method: "POST", body: drawn.data });
    }
  } catch (error) {
    status.textContent = `error: ${error}`;
    if (report) await fetch(`${report}?error=1`, { method: "POST", body: String(error && error.stack || error) });
  }
}
