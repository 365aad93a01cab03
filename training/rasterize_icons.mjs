// Render Iconify emoji icons to square PNGs with resvg, for training/data.py's extra-style sets.
// Usage: node rasterize_icons.mjs <iconify-set> <size> <out-dir>  (keys, one per line, on stdin)
// A key is a codepoint (lower-case hex, '-' joined, no FE0F) looked up in the set's chars.json, or
// else an icon name (sets such as emojione ship an empty chars.json). Each becomes <out-dir>/<key>.png;
// keys the set does not draw are skipped, so the caller reads back only the files that exist.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Resvg } from "@resvg/resvg-js";
import { getIconData, iconToSVG, iconToHTML } from "@iconify/utils";

const [set, size, outDir] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const icons = require(`@iconify-json/${set}/icons.json`);
const chars = require(`@iconify-json/${set}/chars.json`); // codepoint -> icon name
const wanted = readFileSync(0, "utf8").split("\n").filter(Boolean);
mkdirSync(outDir, { recursive: true });
let n = 0;
for (const code of wanted) {
  const name = chars[code] ?? code;
  const data = name && getIconData(icons, name);
  if (!data) continue;
  const { attributes, body } = iconToSVG(data, { height: "auto" });
  const svg = iconToHTML(body, { ...attributes, xmlns: "http://www.w3.org/2000/svg" });
  const png = new Resvg(svg, { fitTo: { mode: "width", value: Number(size) }, background: "rgba(0,0,0,0)" }).render().asPng();
  writeFileSync(`${outDir}/${code}.png`, png);
  n++;
}
console.log(`${set}: ${n} of ${wanted.length} icons rendered at ${size} px`);
