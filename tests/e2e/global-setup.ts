/**
 * Serves the built site (dist/) with `astro preview` on a free loopback port for the browser tests.
 * `npm run test:e2e` builds first; this refuses to test a missing build rather than a stale guess.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { preview } from 'astro';
import type { TestProject } from 'vitest/node';
import { findChromium } from './chromium';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

/** A port the OS says is free right now, so parallel checkouts never collide on 4321. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export default async function setup(project: TestProject) {
  if (!existsSync('dist/index.html')) throw new Error('dist/ is missing: run `npm run build` first.');
  // Resolve (and, as root on Debian, install) the browser once, before any test file starts.
  findChromium();
  const server = await preview({
    root: process.cwd(),
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: await freePort() },
  });
  const baseUrl = `http://127.0.0.1:${server.port}/`;
  project.provide('baseUrl', baseUrl);
  return async () => {
    await server.stop();
  };
}
