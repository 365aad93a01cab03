// Denoised's service worker: after a first visit to any page, every chapter works with the network cut.
//
// - Installing it precaches the whole site but its weights and engines: every page, script,
//   stylesheet, font and sample picture (about 2 MB; the list is written in at build time by
//   integrations/offline-precache.mjs).
// - A page then asks it (message 'keep-offline', from src/lib/runtime/offline.ts) to keep what its
//   figures need on top of that: the onnxruntime engine this browser runs (14 or 27 MB) and every
//   model's weights (26 MB), written into the runtime's own weight cache under the runtime's keys,
//   only after their sha256 checks out. That is a reader's whole download, fetched once, in the
//   background, at the first visit rather than chapter by chapter: a reader who opened the site once
//   and is now on a train should find every chapter working, not only those they happened to run.
//   Readers whose browser asks to save data are not sent it (the page does not ask).
// - Requests are network first, so a connected reader always gets the current site; every successful
//   same-origin GET is kept, and served from the cache when the network fails. Weight files (.onnx)
//   are left to the runtime, which reads them from its cache before it ever asks the network.
const PRECACHE = { version: 'dev', engine: 'dev', files: [] };

const CACHE = 'denoised-site-v1';
// Named after the engine files' bytes, so an onnxruntime-web update never meets a stale engine offline.
const ENGINE_CACHE = `denoised-engine-${PRECACHE.engine}`;
const scope = self.registration.scope;
const isEngine = (url) => url.startsWith(new URL('ort/', scope).href);

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      // All or nothing: a failed file leaves the previous worker (or none) in charge, and the next visit
      // tries again. 'no-cache' revalidates with the server instead of trusting the HTTP cache.
      const cache = await caches.open(CACHE);
      await cache.addAll(PRECACHE.files.map((file) => new Request(new URL(file, scope), { cache: 'no-cache' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('denoised-engine-') && name !== ENGINE_CACHE) await caches.delete(name);
      }
      // Scripts of earlier builds have other hashed names: drop those the current site no longer lists.
      if (PRECACHE.files.length) {
        const listed = new Set(PRECACHE.files.map((file) => new URL(file, scope).href));
        const assets = new URL('_astro/', scope).href;
        const cache = await caches.open(CACHE);
        for (const request of await cache.keys()) {
          if (request.url.startsWith(assets) && !listed.has(request.url)) await cache.delete(request);
        }
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.endsWith('.onnx')) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && response.type === 'basic') {
          const copy = response.clone();
          event.waitUntil(caches.open(isEngine(request.url) ? ENGINE_CACHE : CACHE).then((c) => c.put(request, copy)));
        }
        return response;
      })
      .catch(async () => {
        const cached = await caches.match(request, { ignoreVary: true });
        if (cached) return cached;
        // A page's query string only carries figure settings (and ?ep=), which the page applies itself,
        // so a link with other settings than the visit that cached it is still the same page.
        if (request.mode === 'navigate') {
          const page = await caches.match(request, { ignoreVary: true, ignoreSearch: true });
          if (page) return page;
        }
        throw new TypeError(`offline and not cached: ${url.pathname}`);
      }),
  );
});

// One keep-offline job at a time: a page opened while another's job runs waits for it, then finds
// nearly everything already kept.
let keeping = Promise.resolve();

self.addEventListener('message', (event) => {
  if (event.data?.type !== 'keep-offline' || !event.ports[0]) return;
  const reply = event.ports[0];
  const job = keeping.then(() => keepOffline(event.data));
  keeping = job.catch(() => undefined);
  event.waitUntil(
    job.then(
      (report) => reply.postMessage(report),
      (error) => reply.postMessage({ ok: false, fetched: 0, failed: [String(error)] }),
    ),
  );
});

/**
 * Keeps the engine files and weights a page names, fetching only those not kept yet, one at a time
 * (a slow connection is then shared with the reader's own clicks rather than taken over).
 * `weights.files`: [{ url, key, sha256, bytes }], stored under `key` in the cache `weights.cache`.
 */
async function keepOffline({ engine, weights }) {
  let fetched = 0;
  const failed = [];
  const engineCache = await caches.open(ENGINE_CACHE);
  for (const url of engine) {
    if (!isEngine(url) || (await engineCache.match(url))) continue;
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      await engineCache.put(url, response);
      fetched += 1;
    } catch (error) {
      failed.push(`${url}: ${error}`);
    }
  }
  const weightCache = await caches.open(weights.cache);
  for (const file of weights.files) {
    if (await weightCache.match(file.key)) continue;
    try {
      const response = await fetch(file.url);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.arrayBuffer();
      const digest = await crypto.subtle.digest('SHA-256', body);
      const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
      // The same rule as the runtime's: only complete, verified files are ever kept.
      if (body.byteLength !== file.bytes || hex !== file.sha256) throw new Error('does not match manifest.json');
      await weightCache.put(file.key, new Response(body, { headers: { 'content-type': 'application/octet-stream' } }));
      fetched += 1;
    } catch (error) {
      failed.push(`${file.url}: ${error}`);
    }
  }
  return { ok: failed.length === 0, fetched, failed };
}
