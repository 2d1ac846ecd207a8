/**
 * Optional peer dependencies (tsx, @redis/client): imported only by the
 * feature that needs them, and when missing, one line that says what to
 * install instead of a resolver's stack.
 */

/** A feature needs a package that is not installed. */
export class MissingPeerError extends Error {
  constructor(
    readonly pkg: string,
    feature: string,
  ) {
    super(`[usrv] ${feature} needs the package ${pkg}: npm install ${pkg}`);
    this.name = "MissingPeerError";
  }
}

/**
 * Runs `load` (a dynamic import of `pkg` or one of its subpaths); a failure
 * to find `pkg` itself becomes a `MissingPeerError` naming `feature`.
 *
 * @example
 * const { createClient } = await importPeer("@redis/client", "--replay-store redis://", () => import("@redis/client"));
 */
export async function importPeer<T>(pkg: string, feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
    const missing =
      (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
      typeof message === "string" &&
      (message.includes(`'${pkg}'`) || message.includes(`'${pkg}/`));
    throw missing ? new MissingPeerError(pkg, feature) : e;
  }
}
