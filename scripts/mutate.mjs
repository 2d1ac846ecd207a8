// Mutation testing (docs/mutation.md): runs Stryker once per group of
// stryker.config.mjs, one after the other (each group mutates its own files
// against its own test files), or only the group named by USRV_MUTATE.
//   npm run mutate                     -> every group
//   USRV_MUTATE=secure npm run mutate  -> one group
import { spawnSync } from "node:child_process";
import { groups } from "../stryker.config.mjs";

const names = process.env.USRV_MUTATE ? [process.env.USRV_MUTATE] : Object.keys(groups);
for (const name of names) {
  const started = Date.now();
  const r = spawnSync("npx", ["stryker", "run"], {
    stdio: "inherit",
    env: { ...process.env, USRV_MUTATE: name },
  });
  console.log(`# mutate ${name}: ${((Date.now() - started) / 60_000).toFixed(1)} min, exit ${r.status}`);
  if (r.status !== 0) process.exit(r.status ?? 1);
}
