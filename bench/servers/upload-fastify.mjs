// bench/upload.mjs's Fastify server: @fastify/multipart's saveRequestFiles(), which spools the files to a
// temporary folder (as files of its own name in os.tmpdir()) and removes them once answered, as usrv's bind({ uploads }) does.
import multipart from "@fastify/multipart";
import Fastify from "fastify";

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const app = Fastify({ logger: false, bodyLimit: 512 * 1024 * 1024 });
await app.register(multipart, { limits: { fileSize: 256 * 1024 * 1024, files: 2 } });

app.post("/upload", async (req) => {
  const { files } = await req.saveRequestFiles();
  const file = files.find((f) => f.fieldname === "file");
  const { size } = await import("node:fs/promises").then((fs) => fs.stat(file.filepath));
  return { note: file.fields.note.value, file: size };
});

const url = await app.listen({ host: "127.0.0.1", port });
console.log(`ready ${url}`);
