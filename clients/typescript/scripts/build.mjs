// `npm run build`: the TypeScript sources to dist/ (ESM + .d.ts), and the <coinslot-pricing-table> element
// copied in from coinslot's package, where it is kept once (coinslot also serves it at
// /static/elements/coinslot-pricing-table.js).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ELEMENT = resolve(PACKAGE, "../../src/coinslot/web/static/elements/coinslot-pricing-table.js");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

rmSync(join(PACKAGE, "dist"), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, "-p", join(PACKAGE, "tsconfig.json")], { stdio: "inherit" });
mkdirSync(join(PACKAGE, "dist", "elements"), { recursive: true });
copyFileSync(ELEMENT, join(PACKAGE, "dist", "elements", "coinslot-pricing-table.js"));
