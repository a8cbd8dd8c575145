// Sample a grid from a GAN Zoo generator with onnxruntime-node and write it as a PNG.
//   node sample.mjs [--model PATH.onnx] [--seed S] [--n N] [--out grid.png] [--input noise.json]
// --input takes JSON {"z": [...], "labels": [...]} instead of drawing noise from the prior.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { parseArgs } from "node:util";
import ort from "onnxruntime-node";
import * as ganzoo from "../common/ganzoo.mjs";

const here = path.dirname(new URL(import.meta.url).pathname);
const { values: args } = parseArgs({
  options: {
    model: { type: "string", default: path.join(here, "../../saved_models/conditional_dcgan_digits.onnx") },
    seed: { type: "string", default: "0" },
    n: { type: "string" },
    input: { type: "string" },
    out: { type: "string", default: "grid.png" },
  },
});

// An 8-bit RGB PNG: one unfiltered scanline per row, zlib-deflated (node:zlib has both deflate and crc32).
function png(width, height, rgba) {
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      rgba.subarray((y * width + x) * 4, (y * width + x) * 4 + 3).forEach((v, c) => {
        rows[y * (1 + width * 3) + 1 + x * 3 + c] = v;
      });
    }
  }
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(Buffer.concat([Buffer.from(type), data])));
    return Buffer.concat([length, Buffer.from(type), data, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", zlib.deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const sidecar = args.model.replace(/\.onnx$/, ".metadata.json");
const metadata = ganzoo.checkMetadata(JSON.parse(fs.readFileSync(sidecar, "utf8")));
const conditional = metadata.num_classes !== null;
let z, labels;
if (args.input) {
  const input = JSON.parse(fs.readFileSync(args.input, "utf8"));
  z = Float32Array.from(input.z);
  labels = input.labels;
} else {
  const n = Number(args.n || (conditional ? 10 * metadata.num_classes : 64));
  z = ganzoo.sampleNoise(metadata, n, ganzoo.mulberry32(Number(args.seed)));
}
const n = z.length / metadata.latent_dim;
labels = conditional ? labels || ganzoo.labelsByClass(metadata, n) : null;

const session = await ort.InferenceSession.create(args.model, { executionProviders: ["cpu"] });
const samples = await ganzoo.generate(ort, session, metadata, z, labels);
const grid = ganzoo.tileGrid(metadata, ganzoo.toUint8(metadata, samples), n, {
  nrow: conditional ? metadata.num_classes : undefined,
});
fs.writeFileSync(args.out, png(grid.width, grid.height, grid.rgba));
console.log(`wrote ${args.out}: ${n} images ${JSON.stringify(metadata.image_shape)} from ${path.basename(args.model)}`);
