// Denoised's service worker: keeps the site usable with the network cut after a first visit.
// Network first, so a connected reader always gets the current site; every successful same-origin
// GET is kept, and served from the cache when the network fails. Weight files (.onnx) are left to
// the runtime, which keeps them in its own cache keyed by sha256.
const CACHE = 'denoised-site-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.endsWith('.onnx')) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && response.type === 'basic') {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
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
