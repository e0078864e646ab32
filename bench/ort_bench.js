#!/usr/bin/env node
// ort_bench.js -- the ONNX Runtime peer of compare.sh (npm onnxruntime-node, CPU).
//
//   node ort_bench.js bench --onnx NAME.onnx --model resnet18 --batch 1 --threads 2 --runs 20
//       one JSON line, the format of peer_timing.py: session.run() timed with
//       the recipe every peer shares (warm-up until at least one run and
//       200 ms, then the median and minimum of the timed runs).
//
//   node ort_bench.js classify --onnx NAME.onnx --threads 2 photo.jpg
//       what a Node user writes: jpeg-js decodes the photo, torchvision's
//       preprocessing by hand, session.run, top-5 index and probability on
//       stdout.  compare.sh times the whole process.
//
// The session is set up as ONNX Runtime recommends for latency on a CPU:
// intra-op threads as asked, one inter-op thread, every graph optimisation.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

const WARMUP_MS = 200;
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

function parseArgs(argv) {
  const opts = { cmd: argv[0], batch: 1, runs: 20, size: 224, rest: [] };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      opts[a.slice(2)] = argv[++i];
    } else {
      opts.rest.push(a);
    }
  }
  for (const k of ['batch', 'runs', 'size', 'threads']) opts[k] = Number(opts[k]);
  if (!['bench', 'classify'].includes(opts.cmd) || !opts.onnx || !(opts.threads >= 1))
    throw new Error('usage: ort_bench.js bench|classify --onnx FILE --threads N [...]');
  return opts;
}

function session(opts) {
  return ort.InferenceSession.create(opts.onnx, {
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

async function bench(opts) {
  const s = await session(opts);
  const n = opts.batch * 3 * opts.size * opts.size;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = ((i * 2654435761) % 1000) / 500 - 1;
  const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', data, [opts.batch, 3, opts.size, opts.size]) };

  let warm = 0;
  const start = nowMs();
  do {
    await s.run(feeds);
    warm++;
  } while (nowMs() - start < WARMUP_MS);
  const ms = [];
  for (let r = 0; r < opts.runs; r++) {
    const t0 = nowMs();
    await s.run(feeds);
    ms.push(nowMs() - t0);
  }
  ms.sort((a, b) => a - b);
  const h = ms.length >> 1;
  const median = ms.length % 2 ? ms[h] : (ms[h - 1] + ms[h]) / 2;
  console.log(JSON.stringify({
    peer: 'onnxruntime', variant: `node-${ort.env.versions.common}`, model: opts.model, batch: opts.batch,
    threads: opts.threads, runs: opts.runs, warmup: warm,
    ms_median: +median.toFixed(4), ms_min: +ms[0].toFixed(4),
  }));
}

// torchvision's Resize(256) + CenterCrop(224) + ToTensor + Normalize, as one
// bilinear sampling of the crop from the decoded RGB image (no antialiasing).
function preprocess(img, size) {
  const { width: w, height: h, data } = img;
  const scale = Math.round((size * 256) / 224) / Math.min(w, h);
  const offX = (Math.round(w * scale) - size) / 2;
  const offY = (Math.round(h * scale) - size) / 2;
  const out = new Float32Array(3 * size * size); // [3][size][size]
  for (let y = 0; y < size; y++) {
    const sy = Math.min(Math.max((y + offY + 0.5) / scale - 0.5, 0), h - 1);
    const y0 = Math.floor(sy), y1 = Math.min(y0 + 1, h - 1), fy = sy - y0;
    for (let x = 0; x < size; x++) {
      const sx = Math.min(Math.max((x + offX + 0.5) / scale - 0.5, 0), w - 1);
      const x0 = Math.floor(sx), x1 = Math.min(x0 + 1, w - 1), fx = sx - x0;
      for (let c = 0; c < 3; c++) {
        const p = (yy, xx) => data[(yy * w + xx) * 3 + c];
        const v = (p(y0, x0) * (1 - fx) + p(y0, x1) * fx) * (1 - fy) + (p(y1, x0) * (1 - fx) + p(y1, x1) * fx) * fy;
        out[(c * size + y) * size + x] = (v / 255 - MEAN[c]) / STD[c];
      }
    }
  }
  return out;
}

async function classify(opts) {
  const jpeg = require('jpeg-js');
  if (opts.rest.length !== 1) throw new Error('classify needs one JPEG file');
  const img = jpeg.decode(fs.readFileSync(opts.rest[0]), { useTArray: true, formatAsRGBA: false });
  const s = await session(opts);
  const input = new ort.Tensor('float32', preprocess(img, opts.size), [1, 3, opts.size, opts.size]);
  const logits = (await s.run({ [s.inputNames[0]]: input }))[s.outputNames[0]].data;
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  const top = e.map((v, i) => [i, v / sum]).sort((a, b) => b[1] - a[1]).slice(0, 5);
  for (const [i, p] of top) console.log(`${i}\t${p.toFixed(6)}`);
}

const opts = (() => {
  try {
    return parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`ort_bench.js: ${err.message}`);
    process.exit(2);
  }
})();
(opts.cmd === 'bench' ? bench : classify)(opts).catch((err) => {
  console.error(`ort_bench.js: ${err.message}`);
  process.exit(1);
});
