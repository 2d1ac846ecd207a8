// Runs the compiled test files with node:test.
//   node scripts/test.mjs          -> with the node running this script
//   node scripts/test.mjs --lts    -> with the current LTS (tools/node24, installed on demand)
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { toolBin } from "./tool.mjs";

const node = process.argv.includes("--lts") ? toolBin("node24") : process.execPath;
const dir = join("build", "test");
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".test.js"))
  .map((f) => join(dir, f));
const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
console.log(`# node ${version}: ${files.length} test files`);
const r = spawnSync(node, ["--test", "--test-reporter=spec", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
