/**
 * I1/I2: the secret of `usrv serve --identity`: random, stored (PIN from
 * USRV_PIN or a hidden prompt), file:PATH or secret:TEXT. Resolved once, in
 * the first process; workers get the result over IPC.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { UsageError } from "./errors.js";

/**
 * The identity secret for `identity`; a user's mistake is a UsageError.
 *
 * @example
 * await resolveIdentity("file:/etc/usrv/identity", undefined); // the file's text
 */
export async function resolveIdentity(identity: string, pin: string | undefined): Promise<string> {
  if (identity === "random") return randomBytes(32).toString("hex");
  if (identity.startsWith("secret:")) return identity.slice("secret:".length);
  if (identity.startsWith("file:")) return readIdentityFile(identity.slice("file:".length));
  const { loadSecret } = await import("../secp256k1/secret-store.js");
  pin ??= await askPin();
  try {
    return await loadSecret(pin);
  } catch (e) {
    throw new UsageError(
      `usrv serve: cannot load the stored identity: ${(e as Error).message.replace("[usrv] ", "")}`,
    );
  }
}

async function askPin(): Promise<string> {
  const { createPrompter, PromptAborted } = await import("./secret-prompt.js");
  const prompt = createPrompter();
  try {
    return await prompt.ask("PIN of the stored secret: ");
  } catch (e) {
    if (!(e instanceof PromptAborted)) throw e;
    if (e.interrupted)
      throw new UsageError("usrv serve: stopped during start-up (Ctrl-C at the PIN prompt)", 130);
    throw new UsageError(
      "usrv serve: --identity stored needs the PIN: set USRV_PIN, or start usrv serve where it can ask (the input ended)",
    );
  } finally {
    prompt.close();
  }
}

function readIdentityFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UsageError(`usrv serve: cannot read the identity file ${file}: ${why}`);
  }
  if (text === "") throw new UsageError(`usrv serve: the identity file ${file} is empty`);
  return text;
}
