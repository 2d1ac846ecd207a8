/**
 * How the commands fail: a user's mistake is one line naming the fix and a
 * non-zero exit; anything else is one line too, with its stack only when
 * USRV_DEBUG=1.
 */
import { MissingPeerError } from "../common/peer.js";

/** A user's mistake, reported as one line and a non-zero exit, never a stack. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * An optional peer dependency a feature needs (tsx, @redis/client), or one
 * line saying what to install.
 *
 * @example
 * await requirePeer(loadRedisClient()); // UsageError: usrv serve: a Redis replay store ... needs the package @redis/client: npm install @redis/client
 */
export async function requirePeer<T>(load: Promise<T>): Promise<T> {
  try {
    return await load;
  } catch (e) {
    if (e instanceof MissingPeerError)
      throw new UsageError(`usrv serve: ${e.message.replace("[usrv] ", "")}`);
    throw e;
  }
}

/**
 * The first sentence of an error message: node:util's parseArgs adds advice
 * on positionals after `--` that reads as garbage after an option typo.
 *
 * @example
 * firstSentence(new Error("Unknown option '--bogus'. To specify a positional ...")); // "Unknown option '--bogus'"
 */
export function firstSentence(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split(/\.\s/)[0]!.replace(/\.$/, "");
}

/** True when USRV_DEBUG asks for stacks (1, true or yes). */
export function debugging(): boolean {
  return /^(1|true|yes)$/i.test(process.env.USRV_DEBUG ?? "");
}

/**
 * How an unexpected error (a bug) is reported: its first line and a hint,
 * or its whole stack when USRV_DEBUG=1.
 *
 * @example
 * process.stderr.write(`usrv: ${unexpected(err)}\n`);
 */
export function unexpected(err: unknown): string {
  const error = err instanceof Error ? err : new Error(String(err));
  if (debugging()) return error.stack ?? error.message;
  return `${error.message.split("\n")[0]} (unexpected: USRV_DEBUG=1 prints the stack)`;
}
