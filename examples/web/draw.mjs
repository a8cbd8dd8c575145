// Draw an edge map with the mouse (or a finger, or a pen) and watch a GAN Zoo pix2pix translator fill it in,
// with onnxruntime-web (wasm). Serve the repository root (python -m http.server) and open
// /examples/web/draw.html?model=pix2pix.onnx (see README.md in this folder).
import * as ort from "./node_modules/onnxruntime-web/dist/ort.wasm.min.mjs";

// One thread: multi-threaded wasm needs a cross-origin-isolated page (COOP/COEP headers).
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = new URL("./node_modules/onnxruntime-web/dist/", import.meta.url).href;

export const FORMAT = "gan-zoo-translator/1";
const FORMAT_KEY = "ganzoo.format";
const MODELS = new URL("../../saved_models/", import.meta.url);
export const DEFAULT_MODEL = "pix2pix.onnx"; // beside this page: examples/web/pix2pix.onnx
const DISPLAY_SIZE = 320; // CSS pixels of each panel
// A model pixel is ink when more than a quarter of it is covered: a stroke one model pixel wide that
// straddles two pixels still shows in both, as the Sobel edge maps' lines do.
const INK_THRESHOLD = 64;

// --------------------------------------------------------------------------- the model

// `?model=NAME` is a file in saved_models/ (as on index.html); anything with a "/" or ending in
// ".onnx" is a URL relative to this page.
export function modelUrl(value) {
  value = value || DEFAULT_MODEL;
  if (!value.includes("/") && !value.endsWith(".onnx")) return new URL(`${value}.onnx`, MODELS).href;
  return new URL(value, document.baseURI).href;
}

// onnxruntime-web has no API for an ONNX model's metadata_props, so read them from the file itself: a
// ModelProto is a protobuf message whose field 14 repeats {1: key, 2: value} string pairs. The values of
// a GAN Zoo export are JSON.
export function readMetadataProps(bytes) {
  const text = new TextDecoder();
  const props = {};
  for (const field of protobufFields(bytes)) {
    if (field.number !== 14 || field.wireType !== 2) continue;
    const entry = {};
    for (const part of protobufFields(field.value)) {
      if (part.wireType === 2) entry[part.number] = text.decode(part.value);
    }
    if (entry[1] !== undefined) props[entry[1]] = entry[2] === undefined ? "" : entry[2];
  }
  return props;
}

// The top-level fields of one protobuf message: {number, wireType, value} (a number or a byte range).
function* protobufFields(bytes) {
  let position = 0;
  const varint = () => {
    let value = 0;
    for (let scale = 1; ; scale *= 128) {
      if (position >= bytes.length) throw new Error("truncated ONNX file");
      const byte = bytes[position++];
      value += (byte & 0x7f) * scale; // arithmetic, not bit shifts: lengths may pass 2**31
      if (byte < 0x80) return value;
    }
  };
  while (position < bytes.length) {
    const tag = varint();
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    let value;
    if (wireType === 0) value = varint();
    else if (wireType === 1) position += 8;
    else if (wireType === 5) position += 4;
    else if (wireType === 2) {
      const length = varint();
      value = bytes.subarray(position, position + length);
      position += length;
    } else throw new Error(`not an ONNX file (protobuf wire type ${wireType})`);
    if (position > bytes.length) throw new Error("truncated ONNX file");
    yield { number, wireType, value };
  }
}

// The translator's metadata (JSON values), or an error saying what the file is instead.
export function translatorMetadata(props, source) {
  const marker = props[FORMAT_KEY] && JSON.parse(props[FORMAT_KEY]);
  if (marker !== FORMAT) {
    const found = marker ? `its format is ${marker}` : "it has no GAN Zoo metadata";
    throw new Error(`${source} is not a GAN Zoo ${FORMAT} translator (${found}): export a pix2pix run with ` +
      "ganzoo export");
  }
  return Object.fromEntries(Object.entries(props).map(([key, value]) => [key, JSON.parse(value)]));
}

export async function loadTranslator(url) {
  const response = await fetch(url);
  if (!response.ok) {
    const hint = response.status === 404 ? " (export one: ganzoo export RUN --out examples/web/pix2pix.onnx)" : "";
    throw new Error(`cannot load the model ${url}: HTTP ${response.status} ${response.statusText}${hint}`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  const metadata = translatorMetadata(readMetadataProps(bytes), url);
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
  return { session, metadata };
}

// [height, width] the model reads: `?size=N` or `?size=HxW`, else the training image size, else the
// smallest size it takes. Both must be multiples of the generator's size multiple.
export function modelSize(metadata, sizeParameter) {
  let size;
  if (sizeParameter) {
    size = sizeParameter.split("x").map(Number);
    if (size.length === 1) size.push(size[0]);
  } else if (metadata.training_image_shape) {
    size = metadata.training_image_shape.slice(0, 2);
  } else {
    size = [metadata.size_multiple, metadata.size_multiple];
  }
  const m = metadata.size_multiple;
  if (size.length !== 2 || !size.every((side) => Number.isInteger(side) && side > 0 && side % m === 0)) {
    throw new Error(`size ${size.join("x")}: this model takes heights and widths that are multiples of ${m}`);
  }
  return size;
}

// uint8 pixels (H x W, one channel) -> the translator's uint8 output (H x W x channels_out), as
// export.TranslatorSession.translate computes it: the same float32 steps, and numpy's rint (ties to even).
export async function translate({ session, metadata }, pixels, height, width) {
  const { channels_in: channelsIn, channels_out: channelsOut } = metadata;
  const low = metadata.input_range.min;
  const scale = Math.fround((metadata.input_range.max - low) / 255);
  const images = new Float32Array(height * width * channelsIn);
  for (let i = 0; i < height * width; i++) {
    const x = Math.fround(Math.fround(pixels[i] * scale) + low);
    for (let c = 0; c < channelsIn; c++) images[i * channelsIn + c] = x; // a gray drawing for RGB models
  }
  const feeds = { images: new ort.Tensor("float32", images, [1, height, width, channelsIn]) };
  const results = await session.run(feeds);
  const translated = results[metadata.outputs[0].name];
  try {
    const { min, max } = metadata.value_range || { min: -1, max: 1 };
    const toUint8 = Math.fround(255 / (max - min));
    return Uint8ClampedArray.from(translated.data, (y) => roundHalfEven(Math.fround(Math.fround(y - min) * toUint8)));
  } finally {
    translated.dispose();
  }
}

function roundHalfEven(x) {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

// --------------------------------------------------------------------------- the page

// The drawing canvas (white on black, DISPLAY_SIZE wide, at an integer multiple of the model's size so
// each model pixel is a whole block), the model's input (binary) and its output, side by side.
export class DrawingPage {
  constructor({ drawing, input, output, status, clearButton, brush }, translator, [height, width]) {
    Object.assign(this, { drawing, input, output, status, translator, height, width, brush });
    this.cell = Math.max(1, Math.round(DISPLAY_SIZE / Math.max(height, width)));
    drawing.width = width * this.cell;
    drawing.height = height * this.cell;
    for (const small of [input, output]) {
      small.width = width;
      small.height = height;
    }
    for (const canvas of [drawing, input, output]) {
      canvas.style.width = `${width * this.cell}px`;
      canvas.style.height = `${height * this.cell}px`;
    }
    this.context = drawing.getContext("2d", { willReadFrequently: true });
    this.pixels = new Uint8Array(height * width); // the model input (0 or 255 when sampled from the drawing)
    this.result = null; // the last output: {width, height, channels, data (uint8 HWC)}
    this.frameRequested = false; // a translation is scheduled for the next animation frame
    this.running = false; // a translation is running
    this.dirty = false; // the drawing changed since the last translation began
    this.clear();
    clearButton.addEventListener("click", () => this.clear());
    this.listen();
  }

  clear() {
    this.context.fillStyle = "black";
    this.context.fillRect(0, 0, this.drawing.width, this.drawing.height);
    this.requestTranslation();
  }

  // Pointer events cover the mouse, touch and pens; `touch-action: none` (draw.html) keeps a finger
  // from scrolling the page instead of drawing.
  listen() {
    let last = null;
    const point = (event) => {
      const box = this.drawing.getBoundingClientRect();
      return [
        ((event.clientX - box.left) * this.drawing.width) / box.width,
        ((event.clientY - box.top) * this.drawing.height) / box.height,
      ];
    };
    this.drawing.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      this.drawing.setPointerCapture(event.pointerId);
      last = point(event);
      this.stroke([last, last]);
    });
    this.drawing.addEventListener("pointermove", (event) => {
      if (!last) return;
      // Coalesced events: the positions the browser merged into this one, for smooth fast strokes.
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      const points = [last, ...(events.length ? events : [event]).map(point)];
      this.stroke(points);
      last = points[points.length - 1];
    });
    const end = () => {
      last = null;
    };
    this.drawing.addEventListener("pointerup", end);
    this.drawing.addEventListener("pointercancel", end);
  }

  stroke(points) {
    const context = this.context;
    context.strokeStyle = "white";
    context.lineCap = context.lineJoin = "round";
    context.lineWidth = Number(this.brush.value) * this.cell;
    context.beginPath();
    context.moveTo(...points[0]);
    for (const p of points.slice(1)) context.lineTo(...p);
    if (points.length === 2 && points[0] === points[1]) context.lineTo(points[0][0] + 0.01, points[0][1]); // a dot
    context.stroke();
    this.requestTranslation();
  }

  // The model input from the drawing: each model pixel's block averaged, then thresholded to 0 / 255,
  // binary as the task's edge maps are.
  sampleDrawing() {
    const { cell, width, height } = this;
    const rgba = this.context.getImageData(0, 0, this.drawing.width, this.drawing.height).data;
    const rowStride = this.drawing.width * 4;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = 0;
        for (let dy = 0; dy < cell; dy++) {
          const row = (y * cell + dy) * rowStride + x * cell * 4;
          for (let dx = 0; dx < cell; dx++) sum += rgba[row + dx * 4];
        }
        this.pixels[y * width + x] = sum / (cell * cell) > INK_THRESHOLD ? 255 : 0;
      }
    }
  }

  // Throttling: at most one translation per animation frame, never two at once; strokes drawn while
  // one runs are picked up by the next.
  requestTranslation() {
    this.dirty = true;
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      if (!this.dirty || this.running) return;
      this.translateNow(() => this.sampleDrawing()).catch((error) => this.fail(error));
    });
  }

  async translateNow(prepareInput) {
    this.running = true;
    this.dirty = false;
    try {
      prepareInput();
      return await this.showTranslation();
    } finally {
      this.running = false;
      if (this.dirty) this.requestTranslation();
    }
  }

  async showTranslation() {
    const { width, height } = this;
    const data = await translate(this.translator, this.pixels, height, width);
    const channels = this.translator.metadata.channels_out;
    this.result = { width, height, channels, data };
    paint(this.input, this.pixels, 1, width, height);
    paint(this.output, data, channels, width, height);
    return this.result;
  }

  // For tests and scripts: use `pixels` (uint8, height x width, row by row) as the model input, show
  // it on the drawing canvas, and resolve to the output {width, height, channels, data (uint8 HWC)}.
  async setInput(pixels) {
    if (pixels.length !== this.width * this.height) {
      throw new Error(`the input has ${pixels.length} pixels; this page's model reads ${this.height}x${this.width}`);
    }
    while (this.running) await new Promise(requestAnimationFrame);
    return this.translateNow(() => {
      this.pixels.set(pixels); // as given: no thresholding
      const small = document.createElement("canvas");
      paint(small, this.pixels, 1, this.width, this.height);
      this.context.imageSmoothingEnabled = false;
      this.context.drawImage(small, 0, 0, this.drawing.width, this.drawing.height);
    });
  }

  fail(error) {
    showError(this.status, error);
  }
}

// Paint uint8 pixels (H x W x channels, gray or RGB) onto a canvas of that size.
function paint(canvas, pixels, channels, width, height) {
  canvas.width = width;
  canvas.height = height;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) rgba[i * 4 + c] = pixels[i * channels + (channels === 1 ? 0 : c)];
    rgba[i * 4 + 3] = 255;
  }
  canvas.getContext("2d").putImageData(new ImageData(rgba, width, height), 0, 0);
}

function showError(status, error) {
  status.textContent = `error: ${error && error.message ? error.message : error}`;
  status.classList.add("error");
  document.body.dataset.state = "error";
}

// The page: ?model=FILE.onnx (or NAME in saved_models/), &size=N or HxW. A test passes ?input=URL (JSON:
// a uint8 H x W array, rows of pixels) and ?report=URL, which receives the output's uint8 HWC bytes
// (or the error shown, with ?error=1) by POST. `window.ganzooDraw` is the DrawingPage, once loaded.
export async function runFromQuery(query, elements) {
  const report = query.get("report");
  document.body.dataset.state = "loading";
  try {
    const url = modelUrl(query.get("model"));
    const translator = await loadTranslator(url);
    let input = null;
    if (query.get("input")) {
      const response = await fetch(query.get("input"));
      if (!response.ok) throw new Error(`cannot load the input ${query.get("input")}: HTTP ${response.status}`);
      input = await response.json();
    }
    const size = input ? [input.length, input[0].length] : modelSize(translator.metadata, query.get("size"));
    if (input) modelSize(translator.metadata, size.join("x")); // the same check for a given input
    const page = new DrawingPage(elements, translator, size);
    window.ganzooDraw = page;
    const { model, direction, dataset } = translator.metadata;
    elements.status.textContent = `${model} ${direction}${dataset ? ` (${dataset})` : ""}, ${size[0]}x${size[1]}, ` +
      `from ${url}, on onnxruntime-web ${ort.env.versions.web} (wasm)`;
    document.body.dataset.state = "ready";
    if (input) {
      const result = await page.setInput(Uint8Array.from(input.flat()));
      if (report) {
        const shape = `width=${result.width}&height=${result.height}&channels=${result.channels}`;
        await fetch(`${report}?${shape}`, { method: "POST", body: result.data });
      }
    }
  } catch (error) {
    showError(elements.status, error);
    if (report) await fetch(`${report}?error=1`, { method: "POST", body: elements.status.textContent });
  }
}
