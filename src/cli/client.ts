/**
 * `usrv client PEER` (C7): the seed's interactive console. Prompt `@<<`,
 * commands like `GET api/endpoint a=1 b=2`; both public keys are shown on
 * connect; `--puk` or `puk on` encrypts the calls. Typed text is parsed as
 * data (src/client/command.ts), never evaluated. History lives in
 * $USRV_HOME/client_history (else ~/.usrv), bounded, mode 0600.
 * Exit 0 on exit/EOF, 1 when the peer is not available, 2 on usage errors.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { parseArgs } from "node:util";
import { type Command, parseCommand } from "../client/command.js";
import { type Client, ClientError, ClientHttpError, createClient, type FullAnswer } from "../client/index.js";
import { showValue } from "./client-show.js";
import { firstSentence } from "./errors.js";

const USAGE = `usage: usrv client PEER [options]

  PEER             the server, e.g. http://127.0.0.1:5000

options:
  --puk            encrypt every call for the server's key (from GET /puk)
  --timeout MS     timeout of each call in ms (default 30000)
  --no-history     neither read nor write the history file
  -h, --help       this help
`;

const HELP = `commands:
  METHOD path [segment...] [name=value...]
                   call an endpoint; METHOD is GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.
                   Values are JSON when they parse (a=1 is the number 1, a="1" the
                   string "1", o={"k": [1, 2]} an object), else text; single quotes
                   keep text as it is: note='hello world' 
  puk on|off       encrypt calls for the server's key, or stop
  encoder json|form|multipart
                   how POST, PUT and PATCH send their values (default json)
  keys             show both public keys
  help             this help
  exit             leave (also Ctrl+D)
`;

const HISTORY_SIZE = 500;

function version(): string {
  return (
    JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
  ).version;
}

class Session {
  puk: string | undefined;
  encrypt = false;
  encoder: "json" | "form" | "multipart" = "json";
  /** Aborts whatever a timed-out call left open when the console ends. */
  readonly ended = new AbortController();
  constructor(
    readonly client: Client,
    readonly out: (line: string) => void,
  ) {}

  async keys(): Promise<void> {
    this.out(`server public key: ${this.puk ?? "(none: the server has no /puk endpoint)"}`);
    this.out(`client public key: ${(await this.client.keypair()).publicKey}`);
  }

  async run(cmd: Command): Promise<boolean> {
    switch (cmd.kind) {
      case "empty":
        return true;
      case "exit":
        return false;
      case "help":
        this.out(HELP.trimEnd());
        return true;
      case "keys":
        await this.keys();
        return true;
      case "encoder":
        this.encoder = cmd.name;
        this.out(`encoder: ${cmd.name}`);
        return true;
      case "puk":
        if (cmd.on && this.puk === undefined)
          throw new ClientError("USRV_ERR_CLIENT_BAD_KEY", "no server key: the server has no /puk endpoint");
        this.encrypt = cmd.on;
        this.out(`encryption ${cmd.on ? "on" : "off"}`);
        return true;
      case "call": {
        const options = {
          full: true,
          encoder: this.encoder,
          puk: this.encrypt ? this.puk : undefined,
          signal: this.ended.signal,
        };
        const answer = await this.client.call<FullAnswer>(cmd.method, cmd.segments, cmd.values, options);
        this.out(`> ${answer.encrypted ? "(decrypted) " : ""}${showValue(answer.data)}`);
        return true;
      }
    }
  }
}

function historyFile(): string {
  return join(process.env.USRV_HOME || join(homedir(), ".usrv"), "client_history");
}

function readHistory(file: string): string[] {
  try {
    // the file holds the oldest line first; readline wants the newest first
    return readFileSync(file, "utf8").split("\n").filter(Boolean).slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

function keepHistory(rl: Interface, file: string): void {
  rl.on("history", (lines: string[]) => {
    try {
      mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
      writeFileSync(file, `${lines.slice(0, HISTORY_SIZE).reverse().join("\n")}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
    } catch {
      // a read-only home must not stop the console
    }
  });
}

/** `usrv client PEER [--puk] [--timeout MS] [--no-history]`. */
export async function clientCommand(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  const parse = (a: string[]) =>
    parseArgs({
      args: a,
      allowPositionals: true,
      options: {
        puk: { type: "boolean" },
        timeout: { type: "string" },
        "no-history": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  try {
    parsed = parse(args);
  } catch (err) {
    process.stderr.write(`usrv client: ${firstSentence(err)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n${HELP}`);
    return 0;
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  const why =
    positionals.length === 0
      ? "which peer? e.g. usrv client http://127.0.0.1:5000"
      : positionals.length > 1
        ? `one peer, not ${positionals.map((p) => JSON.stringify(p)).join(" ")}`
        : timeout !== undefined && !(timeout >= 0)
          ? `--timeout is a number of ms >= 0, not ${JSON.stringify(values.timeout)}`
          : undefined;
  if (why !== undefined) {
    process.stderr.write(`usrv client: ${why}\n\n${USAGE}`);
    return 2;
  }
  const peer = positionals[0]!;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  let client: Client;
  try {
    client = createClient({ timeout });
    if ((await client.connect(peer)) === false) {
      const why = client.connectError?.message.replace(/^\[usrv\] /, "") ?? "HEAD / did not answer 2xx";
      process.stderr.write(`usrv client: peer not available: ${peer} (${why})\n`);
      return 1;
    }
  } catch (err) {
    process.stderr.write(`usrv client: ${(err as Error).message}\n`);
    return 2;
  }
  const session = new Session(client, out);
  out(`usrv client ${version()}\nconnected to ${client.peer}\nCTRL+D or exit to stop, help for the commands`);
  try {
    const puk: unknown = await client.GET.puk();
    if (typeof puk === "string") session.puk = puk;
  } catch {}
  await session.keys();
  if (values.puk) await runLine(session, "puk on");

  const terminal = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const file = historyFile();
  const history = terminal && !values["no-history"] ? readHistory(file) : [];
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal,
    history,
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
  });
  if (terminal && !values["no-history"]) keepHistory(rl, file);
  rl.on("SIGINT", () => rl.close());
  rl.setPrompt("@<< ");
  // With piped input, readline may close at end of input while buffered
  // lines are still being run (Node 24 does): the prompt is then written by hand.
  let closed = false;
  rl.once("close", () => (closed = true));
  const prompt = () => (closed ? process.stdout.write("@<< ") : rl.prompt());
  prompt();
  for await (const line of rl) {
    if (!(await runLine(session, line))) break;
    prompt();
  }
  rl.close();
  session.ended.abort();
  return 0;
}

async function runLine(session: Session, line: string): Promise<boolean> {
  try {
    return await session.run(parseCommand(line));
  } catch (err) {
    if (err instanceof ClientHttpError)
      process.stderr.write(`! ${err.status} ${err.serverCode ?? ""} ${showValue(err.body)}\n`);
    else if (err instanceof ClientError)
      process.stderr.write(`! ${err.code}: ${err.message.replace(/^\[usrv\] /, "")}\n`);
    else process.stderr.write(`! ${(err as Error).message}\n`);
    return true;
  }
}
