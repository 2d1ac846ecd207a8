/**
 * S3: the seed's demo routes, served when no bindings are given, as the
 * reference's `route.py` and `wsgi_srv.py` bind them: `/` (HEAD), `/puk`,
 * `/vargs`, `/kwargs` (GET and POST), `/error_406`, `/error_500`. Run this
 * file (`npm start`) to serve them with the seed README's own examples,
 * `/test` and `/<int:b>/<a>`, on 127.0.0.1:5000:
 * `node dist/demo.js [--port N] [--host H] [--log-level L] [--secret S]`.
 */
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { createApp } from "./app/app.js";
import { bindDemo, bindSeedExamples } from "./demo-routes.js";

export { bindDemo, bindSeedExamples };

const DEMO_HELP = `usage: node dist/demo.js [options]   (npm start -- [options])

Serves the demo routes: HEAD /, GET /puk, /vargs, GET|POST /kwargs, /error_406,
/error_500, /test, /<int:b>/<a>.

options (environment variable in brackets):
  -i, --host HOST        address to listen on  [USRV_HOST, default 127.0.0.1]
  -p, --port PORT        port, 0 for any free one  [USRV_PORT, default 5000]
  -l, --log-level LEVEL  1-100 or a name  [USRV_LOG_LEVEL, default 20]
  -s, --secret TEXT      derive the key pair from TEXT (random without)  [USRV_SECRET;
                         prefer it: npm prints the command line, and ps shows it]
  -h, --help             this help
`;

async function main(): Promise<void> {
  let values: ReturnType<typeof parseDemoArgs>["values"];
  try {
    ({ values } = parseDemoArgs());
  } catch (e) {
    process.stderr.write(`usrv demo: ${(e as Error).message.split(/\.\s/)[0]} (see --help)\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return;
  }
  const port = values.port;
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
    process.stderr.write(`usrv demo: --port is an integer from 0 to 65535, not ${JSON.stringify(port)}\n`);
    process.exit(2);
  }
  const app = bindSeedExamples(bindDemo(createApp({ logLevel: values["log-level"] })));
  await app.identify(values.secret); // random without a secret
  const server = await app.run({ host: values.host, port: Number(port) });
  process.stdout.write(
    `usrv demo on ${server.url} (public key ${app.publicKey}): HEAD /, GET /puk, /vargs, GET|POST /kwargs, GET /error_406, /error_500, /test, /<int:b>/<a> (CTRL+C to stop)\n`,
  );
  const stop = () => server.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

function parseDemoArgs() {
  return parseArgs({
    options: {
      host: { type: "string", short: "i", default: process.env.USRV_HOST ?? "127.0.0.1" },
      port: { type: "string", short: "p", default: process.env.USRV_PORT ?? "5000" },
      "log-level": { type: "string", short: "l", default: process.env.USRV_LOG_LEVEL ?? "20" },
      secret: { type: "string", short: "s", default: process.env.USRV_SECRET },
      help: { type: "boolean", short: "h" },
    },
  });
}

// Run as a program, not when imported: this file is an entry of its own in dist/ (the routes live in
// demo-routes.ts, which `usrv serve` shares), so import.meta.url is the file node was asked to run.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: Error) => {
    process.stderr.write(`usrv demo: ${e.message}\n`);
    process.exit(1);
  });
}
