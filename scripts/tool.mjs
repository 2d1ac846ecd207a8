// Tools the tests need but a user of usrv does not (Biome, Bun, Deno,
// workerd, the LTS Node): each has its own package.json and lock file under
// tools/NAME and is installed there on first use (npm ci), so that `npm ci`
// for the quick start stays light.
//   node scripts/tool.mjs NAME [args...]   runs the tool (installing it first)
//   node scripts/tool.mjs --path NAME      prints the path of its binary
//   import { toolBin } from "./tool.mjs"   the same, from a script
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Each tool's folder under tools/ and the binary it provides. */
const TOOLS = { biome: "biome", bun: "bun", deno: "deno", node24: "node", workerd: "workerd" };

/** The path of a tool's binary, installed into tools/NAME on first use. */
export function toolBin(name) {
  const binName = TOOLS[name];
  if (binName === undefined)
    throw new Error(`unknown tool ${name} (known: ${Object.keys(TOOLS).join(", ")})`);
  const dir = join(root, "tools", name);
  const bin = join(dir, "node_modules", ".bin", binName);
  if (!existsSync(bin)) {
    process.stderr.write(`installing ${name} into tools/${name} (first use)\n`);
    const r = spawnSync("npm", ["ci", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error"], {
      stdio: ["ignore", 2, 2], // npm says what it did on our stderr: stdout carries only the path
    });
    if (r.status !== 0 || !existsSync(bin)) throw new Error(`could not install ${name} into tools/${name}`);
  }
  return bin;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  try {
    if (args[0] === "--path") {
      process.stdout.write(`${toolBin(args[1])}\n`);
    } else {
      const r = spawnSync(toolBin(args[0]), args.slice(1), { stdio: "inherit" });
      process.exitCode = r.status ?? 1;
    }
  } catch (e) {
    process.stderr.write(`scripts/tool.mjs: ${e.message}\n`);
    process.exitCode = 1;
  }
}
