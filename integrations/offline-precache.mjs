// @ts-check
/**
 * Writes the service worker's precache list into the built `sw.js`, so that opening any one page
 * installs every page, script, stylesheet, font and sample picture of the site (about 2 MB) and
 * every chapter then opens with the network cut.
 *
 * Left out, on purpose: the model weights (`.onnx`), which the runtime keeps in its own cache keyed
 * by sha256 (public/sw.js fetches them for it when a page asks); the two onnxruntime engines
 * (`ort/`), of which a reader needs only the one their browser runs; and KaTeX's .woff and .ttf
 * fallbacks, since every browser with service workers reads .woff2.
 *
 * The list carries a hash of every listed file's bytes, so any change to the site changes sw.js and
 * readers' browsers install the new list. The engine files get a hash of their own, which names the
 * engine cache: it changes only when onnxruntime-web does.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The line of public/sw.js this replaces; under `astro dev` the worker keeps it and precaches nothing. */
export const PRECACHE_PLACEHOLDER = "const PRECACHE = { version: 'dev', engine: 'dev', files: [] };";

const LEFT_OUT = [
  /\.onnx$/,
  /^ort\//,
  /\.(woff|ttf)$/,
  /^sw\.js$/,
  // The content layer's data store, which Astro leaves in an outDir outside the project (E2E_DIST).
  /^collections\//,
  /^content-(assets|modules)\.mjs$/,
];

/**
 * Every file under `dir`, as a path relative to `root` with forward slashes.
 * @param {string} dir
 * @param {string} [root]
 * @returns {string[]}
 */
function walk(dir, root = dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path, root) : [relative(root, path).split(sep).join('/')];
  });
}

/**
 * Short sha256 of some files' names and bytes.
 * @param {string} root
 * @param {string[]} files
 */
function digest(root, files) {
  const hash = createHash('sha256');
  for (const file of files)
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(root, file)));
  return hash.digest('hex').slice(0, 16);
}

/** @returns {import('astro').AstroIntegration} */
export default function offlinePrecache() {
  return {
    name: 'denoised:offline-precache',
    hooks: {
      'astro:build:done': ({ dir, logger }) => {
        const root = fileURLToPath(dir);
        const all = walk(root).sort();
        const kept = all.filter((file) => !LEFT_OUT.some((pattern) => pattern.test(file)));
        // A page is requested as its directory ("chapters/ddpm/"), which is also its cache key.
        const files = kept.map((file) => (file === 'index.html' ? '' : file.replace(/(^|\/)index\.html$/, '$1')));
        const precache = {
          version: digest(root, kept),
          engine: digest(
            root,
            all.filter((file) => file.startsWith('ort/')),
          ),
          files,
        };
        const swPath = join(root, 'sw.js');
        const source = readFileSync(swPath, 'utf8');
        if (!source.includes(PRECACHE_PLACEHOLDER)) {
          throw new Error(
            `sw.js no longer contains the line \`${PRECACHE_PLACEHOLDER}\` that the precache list replaces.`,
          );
        }
        writeFileSync(swPath, source.replace(PRECACHE_PLACEHOLDER, `const PRECACHE = ${JSON.stringify(precache)};`));
        const bytes = kept.reduce((sum, file) => sum + statSync(join(root, file)).size, 0);
        logger.info(
          `sw.js precaches ${files.length} files, ${(bytes / 1e6).toFixed(2)} MB (version ${precache.version})`,
        );
      },
    },
  };
}
