/**
 * `usrv secret dump|load|migrate` (I2): the identity secret stored under a
 * PIN, asked with hidden prompts. Results on stdout, prompts and messages on
 * stderr; exit 0 ok, 1 failure (wrong PIN...), 2 usage, 130 Ctrl-C.
 */
import { existsSync, readdirSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import {
  CryptoError,
  dumpSecret,
  generateKeypair,
  loadSecret,
  migrateSecret,
  secretPath,
} from "../secp256k1/index.js";
import { firstSentence } from "./errors.js";
import { takeFromEnv } from "./hide-secrets.js";
import { createPrompter, PromptAborted, type Prompter } from "./secret-prompt.js";

const USAGE = `usage: usrv secret <dump|load|migrate> [options]

  dump      ask a secret and a PIN (twice); store the secret encrypted under the PIN;
            print the public key
  load      ask the PIN; print the public key of the stored secret (without one,
            of the Python usrv's file, with a warning to migrate it)
  migrate   ask the PIN; rewrite the Python usrv's secret file (sha256(PIN).key)
            in the usrv format, under the same PIN; read the new file back and,
            when it gives the same secret, delete the old file (else keep it,
            exit 1); print the public key: check it is the one your peers know

options:
  --name NAME         file name in the folder (default secret.key)
  --force             dump, migrate: replace an existing file
  --show-secret       load: print the secret too, on a second line
  --legacy-dir DIR    load, migrate: folder of the Python usrv's key files
                      (default: the folder itself)
  -h, --help          this help

The folder is $USRV_HOME, else ~/.usrv. Prompts go to stderr, results to stdout.
USRV_PIN, when set, is the PIN: no PIN prompt (dump still asks the secret); it is
removed from the environment once read.
`;

const OPTIONS = {
  name: { type: "string" },
  force: { type: "boolean" },
  "show-secret": { type: "boolean" },
  "legacy-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];

/** Asks the questions: hidden prompts, except the PIN when USRV_PIN gave it. */
interface Asker extends Prompter {
  /** The PIN: USRV_PIN's, else asked (twice when `confirm`); undefined when the answers differ. */
  pin(confirm?: boolean): Promise<string | undefined>;
}

function asker(prompt: Prompter, envPin: string | undefined): Asker {
  return {
    ask: (question) => prompt.ask(question),
    close: () => prompt.close(),
    async pin(confirm = false) {
      if (envPin !== undefined) return envPin;
      const pin = await prompt.ask("PIN: ");
      if (confirm && (await prompt.ask("PIN again: ")) !== pin) return undefined;
      return pin;
    },
  };
}

// A memory-hard KDF slows each guess, but 10^4 guesses stay cheap.
const SHORT_PIN = 6;

/** A failure known before any question is asked: say it at once rather than after the prompts. */
function refuse(message: string): number {
  process.stderr.write(`usrv secret: ${message}\n`);
  return 1;
}

/** True when the folder holds a file of the Python usrv's (sha256(PIN).key). */
function hasLegacyFile(folder: string): boolean {
  try {
    return readdirSync(folder).some((f) => /^[0-9a-f]{64}\.key$/.test(f));
  } catch {
    return false;
  }
}

async function dump(prompt: Asker, values: Values): Promise<number> {
  const path = secretPath({ name: values.name });
  if (!values.force && existsSync(path)) return refuse(`${path} exists; pass --force to replace it`);
  const secret = await prompt.ask("secret: ");
  const pin = await prompt.pin(true);
  if (pin === undefined) {
    process.stderr.write("usrv secret: the PINs differ; nothing stored\n");
    return 1;
  }
  if (Array.from(pin).length < SHORT_PIN) {
    process.stderr.write(
      `usrv secret: warning: a PIN under ${SHORT_PIN} characters is quick to guess from the file\n`,
    );
  }
  const stored = await dumpSecret(secret, pin, { name: values.name, overwrite: values.force });
  process.stderr.write(`usrv secret: stored in ${stored}\n`);
  process.stdout.write(`${generateKeypair(secret).publicKey}\n`);
  return 0;
}

async function load(prompt: Asker, values: Values): Promise<number> {
  const path = secretPath({ name: values.name });
  if (!existsSync(path) && !hasLegacyFile(values["legacy-dir"] ?? dirname(path)))
    return refuse(`no secret stored in ${path}; run "usrv secret dump"`);
  const pin = (await prompt.pin())!;
  const secret = await loadSecret(pin, {
    name: values.name,
    legacyDir: values["legacy-dir"],
    warn: (message) => process.stderr.write(`usrv secret: ${message.replace(/^\[usrv\] /, "")}\n`),
  });
  process.stdout.write(`${generateKeypair(secret).publicKey}\n`);
  if (values["show-secret"]) process.stdout.write(`${secret}\n`);
  return 0;
}

async function migrate(prompt: Asker, values: Values): Promise<number> {
  const folder = values["legacy-dir"] ?? dirname(secretPath({ name: values.name }));
  if (!hasLegacyFile(folder))
    return refuse(`no legacy secret file (sha256(PIN).key) in ${folder} to migrate`);
  const pin = (await prompt.pin())!;
  const { from, to, publicKey } = await migrateSecret(pin, {
    name: values.name,
    overwrite: values.force,
    legacyDir: values["legacy-dir"],
  });
  process.stderr.write(`usrv secret: ${from} -> ${to}, read back: same secret; ${from} deleted\n`);
  process.stdout.write(`${publicKey}\n`);
  return 0;
}

const ACTIONS = new Map([
  ["dump", dump],
  ["load", load],
  ["migrate", migrate],
]);

/**
 * Runs `usrv secret ...` with the arguments after `secret`; resolves to the exit code.
 *
 * @example
 * process.exitCode = await secretCommand(["load", "--show-secret"]);
 */
export async function secretCommand(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true });
  } catch (err) {
    process.stderr.write(`usrv secret: ${firstSentence(err)} (see usrv secret --help)\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const action = positionals.length === 1 ? ACTIONS.get(positionals[0]!) : undefined;
  if (action === undefined) {
    const why =
      positionals.length === 0
        ? "which action? dump, load or migrate"
        : positionals.length > 1
          ? `one action at a time, not ${positionals.map((p) => JSON.stringify(p)).join(" ")}`
          : `unknown action ${JSON.stringify(positionals[0])} (dump, load or migrate)`;
    process.stderr.write(`usrv secret: ${why}\n\n${USAGE}`);
    return 2;
  }
  const { USRV_PIN } = takeFromEnv(["USRV_PIN"]);
  const prompt = asker(createPrompter(), USRV_PIN);
  try {
    return await action(prompt, values);
  } catch (err) {
    if (err instanceof PromptAborted) {
      process.stderr.write(`usrv secret: ${err.message}\n`);
      return err.interrupted ? 130 : 1;
    }
    if (err instanceof CryptoError) {
      process.stderr.write(`usrv secret: ${err.message.replace(/^\[usrv\] /, "")}\n`);
      return 1;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
      // the folder: missing parent, a file in the way, no permission, full disk
      process.stderr.write(
        `usrv secret: ${(err as Error).message} (USRV_HOME, else ~/.usrv, must be a folder you can write)\n`,
      );
      return 1;
    }
    throw err;
  } finally {
    prompt.close();
  }
}
