/**
 * Offline reading: after a first visit to any page, every chapter's figures run with the network
 * cut. The service worker (public/sw.js) precaches the pages and scripts itself when it installs;
 * this asks it for the rest, which only the runtime knows: the engine this browser runs and every
 * model's weights, under the keys the runtime's weight cache reads them by.
 *
 * The cost is a reader's whole download (26 MB of weights and a 14 or 27 MB engine) at the first
 * visit, in the background, even for a reader who only reads one page; the alternative, keeping
 * only what a reader ran, leaves every chapter they did not run blank on the train. Readers whose
 * browser asks to save data, or who are on a cellular connection, are not sent it unasked: the page
 * offers them a button instead (`keepForOffline({ asked: true })`).
 */
import { engineUrls } from './engine';
import { getRuntime } from './index';
import { cacheKey, WEIGHT_CACHE_NAME } from './weights';

export type OfflineState =
  /** Everything is kept: every chapter works offline in this browser, on the provider it chose. */
  | { state: 'saved' }
  /** Nothing was asked for: no service worker, a development server, or the reader saves data. */
  | { state: 'skipped'; reason: 'no-service-worker' | 'save-data' | 'cellular' }
  /** Some files could not be kept (network, storage quota); the next page opened tries again. */
  | { state: 'incomplete'; failed: string[] };

/** What the worker's 'keep-offline' job answers. */
interface KeepReport {
  ok: boolean;
  fetched: number;
  failed: string[];
}

/** Asks the service worker to keep the engine and every model's weights; resolves when they are kept. */
export async function keepForOffline({ asked = false } = {}): Promise<OfflineState> {
  try {
    return await askWorker(asked);
  } catch (error) {
    // The manifest could not be read, or the worker went away mid-job: another page tries again.
    return { state: 'incomplete', failed: [String(error)] };
  }
}

/** `asked`: the reader pressed the button, so a metered connection is no reason to hold back. */
async function askWorker(asked: boolean): Promise<OfflineState> {
  if (import.meta.env.DEV || !('serviceWorker' in navigator)) return { state: 'skipped', reason: 'no-service-worker' };
  // Network Information API (Chromium): tens of megabytes unasked are not sent over a metered link.
  const connection = (navigator as Navigator & { connection?: { saveData?: boolean; type?: string } }).connection;
  if (!asked && connection?.saveData) return { state: 'skipped', reason: 'save-data' };
  if (!asked && connection?.type === 'cellular') return { state: 'skipped', reason: 'cellular' };
  const registration = await navigator.serviceWorker.ready;
  const worker = registration.active;
  if (!worker) return { state: 'skipped', reason: 'no-service-worker' };

  const { runtime, choice } = await getRuntime();
  const manifest = await runtime.manifest();
  const files = new Map<string, { url: string; key: string; sha256: string; bytes: number }>();
  for (const entry of Object.values(manifest.models)) {
    const source = runtime.weightSource(entry);
    files.set(entry.file, { ...source, url: new URL(source.url, location.href).href, key: cacheKey(source) });
  }
  const report = await new Promise<KeepReport>((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => resolve(event.data as KeepReport);
    worker.postMessage(
      {
        type: 'keep-offline',
        engine: engineUrls(choice.provider),
        weights: { cache: WEIGHT_CACHE_NAME, files: [...files.values()] },
      },
      [channel.port2],
    );
  });
  return report.ok ? { state: 'saved' } : { state: 'incomplete', failed: report.failed };
}
