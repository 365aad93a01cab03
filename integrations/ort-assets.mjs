// @ts-check
/**
 * Serves onnxruntime-web's engine files from this site's own origin (never a CDN).
 *
 * The runtime imports onnxruntime-web's "extern wasm" builds (see the resolve condition in
 * astro.config.mjs), which load their Emscripten glue (.mjs) and binary (.wasm) from
 * `env.wasm.wasmPaths` at run time. Copying them into public/ort/ makes them plain static files
 * under `astro dev`, `astro preview` and the built site alike, and lets pthread workers start from
 * the glue's own URL instead of from a bundled chunk (where they fail).
 */
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The two engines a reader may download; each reader gets exactly one. */
export const ORT_ENGINE_FILES = [
  // WebGPU engine (onnxruntime-web/webgpu): native WebGPU EP plus the CPU EP, asyncify build.
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
  // WASM-only engine (onnxruntime-web/wasm): about half the bytes, for browsers without WebGPU.
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
];

/**
 * TensorFlow.js's WebAssembly kernels, for the one figure that trains a network in the page
 * (src/lib/toy-train). Single-threaded builds only: the trainer turns threads off, since a
 * 9,000-parameter MLP gains nothing from them.
 */
export const TFJS_WASM_FILES = ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm'];

/**
 * Copies `files` from `dist` into `target` unless an up-to-date copy is there.
 * @param {string} dist
 * @param {string} target
 * @param {string[]} files
 */
function copyFresh(dist, target, files) {
  mkdirSync(target, { recursive: true });
  for (const file of files) {
    const from = join(dist, file);
    const to = join(target, file);
    let stale = true;
    try {
      stale = statSync(to).size !== statSync(from).size || statSync(to).mtimeMs < statSync(from).mtimeMs;
    } catch {
      // Not copied yet.
    }
    if (stale) copyFileSync(from, to);
  }
}

/** @returns {import('astro').AstroIntegration} */
export default function ortAssets() {
  return {
    name: 'denoised:ort-assets',
    hooks: {
      'astro:config:setup': ({ config, logger }) => {
        const require = createRequire(import.meta.url);
        // The package exports no package.json; its CommonJS entry lives in dist/ beside the engine files.
        const dist = dirname(require.resolve('onnxruntime-web'));
        const target = join(fileURLToPath(config.publicDir), 'ort');
        copyFresh(dist, target, ORT_ENGINE_FILES);
        const tfjsDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
        copyFresh(tfjsDist, join(fileURLToPath(config.publicDir), 'tfjs'), TFJS_WASM_FILES);
        logger.debug(`onnxruntime-web engine files in ${target}`);
      },
    },
  };
}
