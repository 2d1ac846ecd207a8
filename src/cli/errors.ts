/** How the commands fail: a user's mistake is one line naming the fix and a non-zero exit. */

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
