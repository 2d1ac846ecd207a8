/** SIGTERM and SIGINT for `usrv serve`: the first drains, a second forces. */

/** Resolves on the first SIGTERM/SIGINT; a second one calls `force`. */
export function onSignals(force: () => void): Promise<string> {
  return new Promise((resolve) => {
    let seen = false;
    const handler = (signal: string) => {
      if (seen) return force();
      seen = true;
      resolve(signal);
    };
    process.on("SIGTERM", handler);
    process.on("SIGINT", handler);
  });
}
