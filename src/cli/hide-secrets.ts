/**
 * Keeping `usrv serve`'s secrets where only it can read them. Any local user
 * can read a process's command line (`ps`, /proc/PID/cmdline); only the same
 * user and root can read its environment, and every child process inherits
 * it. So secrets are taken out of the environment once read, and blanked in
 * the command line.
 */
import { readFileSync } from "node:fs";

/**
 * Rewrites this process's command line as `ps` shows it, with `redact`
 * applied to each argument; returns whether anything changed. Setting
 * process.title overwrites the memory the kernel shows (Linux, macOS); the
 * original was visible from exec until this call.
 *
 * @example
 * redactCommandLine((arg) => arg.replace(/^secret:.*$/s, "secret:***"));
 */
export function redactCommandLine(redact: (arg: string) => string): boolean {
  let args: string[];
  try {
    // the exact bytes the kernel shows, so the new title fits in their place
    args = readFileSync("/proc/self/cmdline", "utf8").split("\0").slice(0, -1);
  } catch {
    args = [process.argv0, ...process.execArgv, ...process.argv.slice(1)];
  }
  const redacted = args.map(redact);
  if (redacted.every((arg, i) => arg === args[i])) return false;
  process.title = redacted.join(" ");
  return true;
}

/**
 * Reads environment variables and removes them from `process.env`, so that
 * workers, handlers and their child processes never inherit them.
 *
 * @example
 * const { USRV_PIN } = takeFromEnv(["USRV_PIN"]);
 */
export function takeFromEnv<K extends string>(names: readonly K[]): Record<K, string | undefined> {
  const out = {} as Record<K, string | undefined>;
  for (const name of names) {
    out[name] = process.env[name];
    delete process.env[name];
  }
  return out;
}
