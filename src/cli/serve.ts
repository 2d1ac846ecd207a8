/**
 * `usrv serve [options] BINDINGS...` (S3-S5): the seed's wsgi_srv.py.
 * Every option has an environment variable; usage errors exit 2 with one
 * line on stderr; --help and --version print to stdout and exit 0.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseLevel } from "../common/log.js";
import { firstSentence, UsageError } from "./errors.js";
import { redactCommandLine, takeFromEnv } from "./hide-secrets.js";
import { runServer, type ServeConfig } from "./serve-process.js";

export const SERVE_HELP = `usage: usrv serve [options] BINDINGS...

Serves the routes that BINDINGS bind: module files (.js, .mjs, .ts) or
package names whose top level calls bind(). .ts modules load with Node's own
type stripping, or with the package tsx where Node has none (npm install tsx).
With no BINDINGS, the demo routes: / (HEAD), /puk, /vargs, /kwargs,
/error_406, /error_500.
A module that binds nothing but exports a usrv app by default (export default
app, made with createApp()) has that app served, with its own identity unless
--identity is given; a module that does neither is warned about.
HEAD / and GET /puk (the public key), which usrv clients call, are added
when the bindings do not answer them.

options (environment variable in brackets):
  -t, --threads N          worker processes, 1 = a single process  [USRV_THREADS, default 2]
  -l, --log-level LEVEL    1-100 or debug|info|warning|error|critical  [USRV_LOG_LEVEL, default 20]
  -i, --ip HOST            address to listen on  [USRV_IP, default 127.0.0.1]
  -p, --port PORT          port, 0 for any free one  [USRV_PORT, default 5000]
      --tls-cert FILE      serve HTTPS with this certificate (PEM)  [USRV_TLS_CERT]
      --tls-key FILE       and this key (PEM)  [USRV_TLS_KEY]
      --tls-self-signed    HTTPS with a self-signed certificate for development  [USRV_TLS_SELF_SIGNED=1]
      --http2              HTTP/2: with TLS, h2 and HTTP/1.1 on one port (ALPN); without,
                           h2c (HTTP/2 with prior knowledge only)  [USRV_HTTP2=1]
      --identity ID        the server key pair: random; stored (the secret of usrv secret dump,
                           PIN from USRV_PIN or a hidden prompt); file:PATH (the file's text,
                           without a final newline); or secret:TEXT (other local users see TEXT
                           in ps until start-up blanks it)  [USRV_IDENTITY, default random]
      --replay-store URL   redis://host:port to share used nonces across hosts
                           (needs the package @redis/client: npm install @redis/client)
                           [USRV_REPLAY_STORE, default: shared by this server's workers]
      --drain-timeout MS   longest wait for in-flight requests on shutdown  [USRV_DRAIN_TIMEOUT, default 10000]
      --no-default-routes  do not add HEAD / and GET /puk  [USRV_NO_DEFAULT_ROUTES=1]
      --version            the usrv version
  -h, --help               this help

SIGTERM or SIGINT stops accepting, lets in-flight requests finish and exits 0;
requests still running at the drain timeout are cut; a second signal forces the exit.
A signal during start-up stops it and exits 130 (SIGINT) or 143 (SIGTERM).

Secrets: any local user can read a command line (ps), so prefer file:PATH or
USRV_IDENTITY to secret:TEXT. USRV_IDENTITY and USRV_PIN are removed from the
environment once read: workers, handlers and their child processes never see them.
`;

/**
 * Parses and checks the command line, each option defaulting to its
 * variable in `env`; throws UsageError(…, 2) on a usage mistake.
 */
export function parseServeArgs(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): ServeConfig | "help" | "version" {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args, env);
  } catch (e) {
    throw new UsageError(`usrv serve: ${firstSentence(e)} (see usrv serve --help)`, 2);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return "help";
  if (v.version) return "version";
  const int = (name: string, text: string, min: number, max: number) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max)
      throw new UsageError(
        `usrv serve: --${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(text)}`,
        2,
      );
    return n;
  };
  let logLevel: number;
  try {
    logLevel = parseLevel(v["log-level"]);
  } catch (e) {
    throw new UsageError(`usrv serve: ${(e as Error).message.replace("[usrv] ", "")}`, 2);
  }
  const identity = v.identity ?? "random";
  if (!/^(random|stored|file:.+|secret:.+)$/s.test(identity)) {
    const shown = identity.startsWith("secret:") ? "secret: with no text" : JSON.stringify(identity);
    throw new UsageError(
      `usrv serve: --identity is random, stored, file:PATH or secret:TEXT, not ${shown}`,
      2,
    );
  }
  if (Boolean(v["tls-cert"]) !== Boolean(v["tls-key"]))
    throw new UsageError("usrv serve: --tls-cert and --tls-key go together", 2);
  if (v["tls-cert"] && v["tls-self-signed"])
    throw new UsageError("usrv serve: --tls-self-signed or --tls-cert/--tls-key, not both", 2);
  const store = v["replay-store"];
  if (store && !/^rediss?:\/\/./.test(store))
    throw new UsageError(`usrv serve: --replay-store takes a redis:// URL, not ${JSON.stringify(store)}`, 2);
  return {
    bindings: positionals,
    threads: int("threads", v.threads, 1, 256),
    logLevel,
    host: v.ip,
    port: int("port", v.port, 0, 65535),
    tlsCert: v["tls-cert"],
    tlsKey: v["tls-key"],
    tlsSelfSigned: v["tls-self-signed"],
    http2: v.http2,
    identity,
    identityGiven: v.identity !== undefined,
    pin: env.USRV_PIN,
    replayStore: store,
    drainTimeout: int("drain-timeout", v["drain-timeout"], 0, 3_600_000),
    defaultRoutes: !v["no-default-routes"],
  };
}

/** A switch's environment variable: 1, true or yes. */
const yes = (value: string | undefined) => /^(1|true|yes)$/i.test(value ?? "");

function parse(args: string[], env: NodeJS.ProcessEnv) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      threads: { type: "string", short: "t", default: env.USRV_THREADS ?? "2" },
      "log-level": { type: "string", short: "l", default: env.USRV_LOG_LEVEL ?? "20" },
      ip: { type: "string", short: "i", default: env.USRV_IP ?? "127.0.0.1" },
      port: { type: "string", short: "p", default: env.USRV_PORT ?? "5000" },
      "tls-cert": { type: "string", default: env.USRV_TLS_CERT },
      "tls-key": { type: "string", default: env.USRV_TLS_KEY },
      "tls-self-signed": { type: "boolean", default: yes(env.USRV_TLS_SELF_SIGNED) },
      http2: { type: "boolean", default: yes(env.USRV_HTTP2) },
      identity: { type: "string", default: env.USRV_IDENTITY },
      "replay-store": { type: "string", default: env.USRV_REPLAY_STORE },
      "drain-timeout": { type: "string", default: env.USRV_DRAIN_TIMEOUT ?? "10000" },
      "no-default-routes": { type: "boolean", default: yes(env.USRV_NO_DEFAULT_ROUTES) },
      version: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** The `serve` command: resolves with the exit code once the server has stopped. */
export async function serveCommand(args: string[]): Promise<number> {
  redactCommandLine((arg) => arg.replace(/^(--identity=)?secret:.*$/s, "$1secret:***"));
  const env = { ...process.env };
  takeFromEnv(["USRV_IDENTITY", "USRV_PIN"]);
  try {
    const config = parseServeArgs(args, env);
    if (config === "help") {
      process.stdout.write(SERVE_HELP);
      return 0;
    }
    if (config === "version") {
      const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
        version: string;
      };
      process.stdout.write(`${pkg.version}\n`);
      return 0;
    }
    return await runServer(config);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
