#!/usr/bin/env node
/**
 * The `usrv` command: a tiny dispatcher on the first argument. Each command
 * lives in src/cli/<command>.ts and is imported only when asked for, so
 * `usrv --version` never loads curve code.
 *
 *   usrv secret dump|load|migrate    (I2)
 *   usrv serve ...                   (S3-S5)
 *   usrv client PEER                 (C7)
 *   usrv openapi BINDINGS            (issue 15)
 *   usrv types BINDINGS              (issue 15: a typed client)
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { firstSentence } from "./errors.js";

const USAGE = `usage: usrv <command> [options]

commands:
  secret dump|load|migrate   store the identity secret under a PIN, or read it back
  serve [options] BINDINGS   serve binding modules (usrv serve --help)
  client PEER                interactive client (usrv client --help)
  openapi BINDINGS           the OpenAPI 3.1 document of binding modules (usrv openapi --help)
  types BINDINGS             the route table that types a client (usrv types --help)

options:
  -h, --help                 this help
  --version                  the usrv version

"usrv <command> --help" tells more. Errors are one line on stderr;
USRV_DEBUG=1 adds the stack of an unexpected one.
`;

/** A command: its arguments (after its name) in, the exit code out. */
type Command = (args: string[]) => Promise<number>;

const COMMANDS = new Map<string, () => Promise<Command>>([
  ["secret", async () => (await import("./secret.js")).secretCommand],
  ["serve", async () => (await import("./serve.js")).serveCommand], // S3
  ["client", async () => (await import("./client.js")).clientCommand], // C7
  ["openapi", async () => (await import("./openapi.js")).openapiCommand],
  ["types", async () => (await import("./types.js")).typesCommand],
]);

function version(): string {
  // dist/cli.js and src/cli.ts both sit one level below package.json
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const first = argv.findIndex((arg) => !arg.startsWith("-"));
  let values: { help?: boolean; version?: boolean };
  try {
    ({ values } = parseArgs({
      args: first === -1 ? argv : argv.slice(0, first),
      options: { help: { type: "boolean", short: "h" }, version: { type: "boolean" } },
    }));
  } catch (err) {
    process.stderr.write(`usrv: ${firstSentence(err)}\n\n${USAGE}`);
    return 2;
  }
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const name = first === -1 ? undefined : argv[first]!;
  const load = name === undefined ? undefined : COMMANDS.get(name);
  if (load === undefined) {
    process.stderr.write(`${name === undefined ? "" : `usrv: unknown command "${name}"\n\n`}${USAGE}`);
    return 2;
  }
  return (await load())(argv.slice(first + 1));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    const { unexpected } = await import("./errors.js");
    process.stderr.write(`usrv: ${unexpected(err)}\n`);
    process.exitCode = 1;
  },
);
