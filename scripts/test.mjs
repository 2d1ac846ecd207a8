// Runs the compiled test files with node:test.
//   node scripts/test.mjs          -> with the node running this script
//   node scripts/test.mjs --lts    -> with the current LTS (tools/node24, installed on demand)
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const lts = process.argv.includes("--lts");
let node = process.execPath;
if (lts) {
  const bin = join("tools", "node24", "node_modules", ".bin", "node");
  if (!existsSync(bin)) {
    const r = spawnSync("npm", ["ci", "--prefix", join("tools", "node24"), "--no-audit", "--no-fund"], {
      stdio: "inherit",
    });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  node = bin;
}
const dir = join("build", "test");
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".test.js"))
  .map((f) => join(dir, f));
const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
console.log(`# node ${version}: ${files.length} test files`);
const r = spawnSync(node, ["--test", "--test-reporter=spec", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
