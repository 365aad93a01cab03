/**
 * Serves the built site (dist/) with `astro preview` on a free loopback port for the browser tests.
 * `npm run test:e2e` builds first; this refuses to test a missing build rather than a stale guess.
 */
import { existsSync } from 'node:fs';
import { preview } from 'astro';
import type { TestProject } from 'vitest/node';
import { findChromium } from './chromium';
import { freePort } from '../helpers/net';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  // E2E_DIST lets two people (or agents) build and test side by side: `astro build --outDir X`.
  const outDir = process.env.E2E_DIST ?? 'dist';
  if (!existsSync(`${outDir}/index.html`)) throw new Error(`${outDir}/ is missing: run \`npm run build\` first.`);
  // Resolve (and, as root on Debian, install) the browser once, before any test file starts.
  findChromium();
  const server = await preview({
    root: process.cwd(),
    outDir,
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: await freePort() },
  });
  const baseUrl = `http://127.0.0.1:${server.port}/`;
  project.provide('baseUrl', baseUrl);
  return async () => {
    await server.stop();
  };
}
