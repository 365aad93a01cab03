// @ts-check
import { defineConfig } from 'astro/config';
import mdx from '@astrojs/mdx';
import remarkMath from 'remark-math';
import rehypeKatex from 'rehype-katex';
import { defaultClientConditions } from 'vite';
import offlinePrecache from './integrations/offline-precache.mjs';
import ortAssets from './integrations/ort-assets.mjs';

// Cross-origin isolation lets onnxruntime-web use multi-threaded WASM (SharedArrayBuffer).
// Astro applies these headers under `astro dev` and `astro preview`; hosting must send the same
// (see README, "Hosting").
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  site: 'https://denoised.example',
  integrations: [mdx(), ortAssets(), offlinePrecache()],
  markdown: {
    remarkPlugins: [remarkMath],
    rehypePlugins: [rehypeKatex],
    // Shiki's default github-dark draws comments at 3:1 contrast; the -default variant meets WCAG AA.
    shikiConfig: { theme: 'github-dark-default' },
  },
  server: { headers: isolationHeaders },
  image: { service: { entrypoint: 'astro/assets/services/noop' } },
  vite: {
    // onnxruntime-web ships its own WASM and worker files; pre-bundling would lose them.
    optimizeDeps: { exclude: ['onnxruntime-web'] },
    // Pick onnxruntime-web's builds that load their .mjs/.wasm from env.wasm.wasmPaths (served from
    // public/ort/ by ortAssets) instead of inlining the glue and emitting a second copy of the binary.
    resolve: { conditions: [...defaultClientConditions, 'onnxruntime-web-use-extern-wasm'] },
  },
});
