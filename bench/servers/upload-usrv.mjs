// bench/upload.mjs's usrv server: "uploads" spools multipart files to a temporary folder
// (bind({ uploads })), "stream" counts a raw body read from ctx.stream (bind({ body: "stream" })).
import { createApp } from "../../dist/index.js";

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const app = createApp({ logLevel: 40, timeout: 600_000 });
const MiB = 1024 * 1024;

if (process.argv[3] === "uploads") {
  app.bind(
    "/upload",
    { methods: ["POST"], uploads: { maxFileSize: 256 * MiB, maxFiles: 2 } },
    ({ note, file }) => [200, { note, file: file.size }],
  );
} else {
  app.bind(
    "/upload",
    { methods: ["POST"], body: "stream", bodyLimit: 512 * MiB, style: "object" },
    async (_, ctx) => {
      let bytes = 0;
      const reader = ctx.stream.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.length;
      return [200, { bytes }];
    },
  );
}

const server = await app.run({ host: "127.0.0.1", port });
console.log(`ready ${server.url}`);
