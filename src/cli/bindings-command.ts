/**
 * The start `usrv openapi` and `usrv types` share: a command that reads
 * binding modules and writes what it makes on stdout (or into a file).
 */
import { writeFileSync } from "node:fs";
import type { App } from "../app/app.js";
import { ConsoleLogger } from "../common/log.js";
import { defaultApp } from "../index.js";
import { firstSentence } from "./errors.js";
import { loadBindings } from "./serve-bindings.js";

/** What a bindings command got: its options, its modules and the app they bind. */
export interface Loaded<V> {
  values: V;
  positionals: string[];
  app: App;
}

/**
 * Parses the arguments (`parse`, node:util's parseArgs with the command's
 * options), answers `--help` and usage errors (the exit code: 0 or 2), then
 * loads the binding modules as `usrv serve` does, with the built-in logger
 * quiet: the modules' info lines would mix with what the command writes on
 * stdout. Load warnings go to stderr.
 *
 * @example
 * const got = await loadForCommand("usrv types", USAGE, () => parse(args));
 * if (typeof got === "number") return got;
 */
export async function loadForCommand<V extends { help?: boolean | undefined }>(
  command: string,
  usage: string,
  parse: () => { values: V; positionals: string[] },
): Promise<Loaded<V> | number> {
  let parsed: { values: V; positionals: string[] };
  try {
    parsed = parse();
  } catch (err) {
    process.stderr.write(`${command}: ${firstSentence(err)}\n\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(`${command}: no binding module given\n\n${usage}`);
    return 2;
  }
  const main = defaultApp();
  if (main.logger instanceof ConsoleLogger) main.logger.level = 40;
  const { app, warnings } = await loadBindings(positionals, main);
  for (const line of warnings) process.stderr.write(`${line}\n`);
  return { values, positionals, app };
}

/** What the command made, into `out` when given, else on stdout. */
export function emit(out: string | undefined, text: string): void {
  if (out === undefined) process.stdout.write(text);
  else writeFileSync(out, text);
}
