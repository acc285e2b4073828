// PostGraphile 5 over the benchmark's database: the peer our class view is compared against.
//
// Env: DATABASE_URL (plain postgres:// URL, a role that may SET ROLE schoolgraph_app),
// ORG_ID (the org every request is scoped to, as our API's token would scope it), PORT,
// RLS (on by default; see pgSettings).
// Serves POST http://127.0.0.1:$PORT/graphql; no GraphiQL, no watch mode, no explain.
// Started by bench.peers.start_postgraphile (which also sets NODE_ENV=production).
//
// `node server.mjs --print-schema` prints the generated SDL and exits (to check field names).
import { createServer } from "node:http";

import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { printSchema } from "postgraphile/graphql";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const { DATABASE_URL, ORG_ID } = process.env;
const PORT = Number(process.env.PORT ?? "5678");
if (!DATABASE_URL || !ORG_ID) {
  console.error("server.mjs needs DATABASE_URL and ORG_ID");
  process.exit(2);
}

// Every request runs as our API's requests do: SET LOCAL ROLE schoolgraph_app and
// app.org_id for the row-level-security policies, in a transaction PostGraphile opens.
// RLS=off runs its statement alone as the connecting (owner) role, RLS bypassed: the
// fastest PostGraphile can be, and not how a school's data may be served.
const pgSettings =
  process.env.RLS === "off"
    ? undefined
    : () => ({ role: "schoolgraph_app", "app.org_id": ORG_ID });

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({ connectionString: DATABASE_URL, schemas: ["public"], pgSettings }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: PORT,
    graphqlPath: "/graphql",
    graphiql: false,
    graphqlOverGET: false,
    watch: false,
    websockets: false,
  },
  grafast: {
    explain: false,
  },
};

const pgl = postgraphile(preset);

if (process.argv.includes("--print-schema")) {
  const schema = await pgl.getSchema();
  process.stdout.write(printSchema(schema) + "\n");
  await pgl.release();
  process.exit(0);
}

const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (e) => {
  console.error(e);
  process.exit(1);
});
await serv.addTo(server);
// Build the schema before listening, so "the port answers" means "ready".
await pgl.getSchema();
server.listen(PORT, "127.0.0.1", () => {
  console.error(`postgraphile listening on http://127.0.0.1:${PORT}/graphql`);
});

const stop = async () => {
  server.close();
  await serv.release();
  await pgl.release();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
