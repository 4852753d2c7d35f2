import { PassThrough } from "node:stream";

import test from "ava";

import { lineFormat } from "../../../src/adapters/log/format.js";
import { streamSink } from "../../../src/adapters/log/stream-sink.js";

const at = new Date(2026, 10, 26, 1, 50, 0);

test("writes one formatted line per entry and leaves the stream open", async (t) => {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  const sink = streamSink(stream, () => at);

  sink.write("info", "listening on :8080");
  sink.write("error", "backend down");
  sink.reopen();
  await sink.close();

  t.is(
    Buffer.concat(chunks).toString(),
    "2026/11/26 01:50:00 INFO listening on :8080\n2026/11/26 01:50:00 ERROR backend down\n",
  );
  t.false(stream.writableEnded);
  t.is(stream.listenerCount("error"), 0);
});

test("a stream error neither throws nor blocks close", async (t) => {
  const stream = new PassThrough();
  const sink = streamSink(stream, () => at);
  stream.destroy(new Error("EPIPE"));
  t.notThrows(() => sink.write("info", "after the pipe broke"));
  await sink.close();
  t.pass();
});

test("writes in the format it is given: the journal's, without a timestamp", async (t) => {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  const sink = streamSink(stream, () => at, lineFormat("text", true));
  sink.write("info", "Backend a:1 is down", { event: "backend-down" });
  sink.write("warn", "w");
  await sink.close();
  t.is(Buffer.concat(chunks).toString(), "<6>INFO Backend a:1 is down\n<4>WARN w\n");
});
