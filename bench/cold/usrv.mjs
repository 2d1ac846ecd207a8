// Cold start, usrv (the built dist, as a user imports "usrv"): one route, then a ready line with the URL.
import { createApp } from "../../dist/index.js";

const app = createApp({ logLevel: 40 }); // no "listening on" line, as Fastify's logger: false
app.bind("/hello", () => [200, { hello: "world" }]);
const server = await app.run({ host: "127.0.0.1", port: 0 });
console.log(`ready ${server.url}`);
