import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import { parseCheck } from "../../src/domain/check.js";
import { decodeProxySettings } from "../../src/domain/proxy-options.js";

const problems = (options: object): string =>
  E.getOrElseW((left: string) => left)(
    E.map(() => "decoded")(decodeProxySettings({ listen: ":1", backends: ["a:1"], ...options })),
  );

test("check kinds as the command line writes them", (t) => {
  t.deepEqual(parseCheck("redis-primary"), E.right({ kind: "redis-primary" }));
  t.deepEqual(parseCheck("http:/primary"), E.right({ kind: "http", path: "/primary" }));
  t.deepEqual(parseCheck("send-expect"), E.right({ kind: "send-expect", send: "", expect: "" }));
  t.deepEqual(
    parseCheck("mysq"),
    E.left(
      'unknown check kind "mysq" (expected tcp, redis, redis-primary, mysql, mysql-primary, pgsql, pgsql-primary, http:/PATH or send-expect)',
    ),
  );
  t.deepEqual(
    parseCheck("http:health"),
    E.left('the HTTP check path "health" must start with "/"'),
  );
  t.true(E.isLeft(parseCheck("http:/a b")));
});

test("a check option names itself and the value in every problem", (t) => {
  t.regex(problems({ check: "mysq" }), /^options\.check: unknown check kind "mysq"/);
  t.is(
    problems({ check: "mysql-primary" }),
    "options.check: the mysql-primary check logs in: options.checkUser is needed",
  );
  t.is(
    problems({ check: "send-expect" }),
    "options.check: a send-expect check needs a pattern (options.checkExpect)",
  );
  t.regex(
    problems({ check: "send-expect", checkExpect: "(" }),
    /^options\.check: Invalid regular expression/,
  );
  t.is(
    problems({ checkSend: "PING" }),
    "options.checkSend: only a send-expect check sends text (options.check is tcp)",
  );
  t.is(problems({ checkUser: "" }), 'options.checkUser: expected a non-empty string, got ""');
});

test("send-expect takes its text and pattern from their own options", (t) => {
  const decoded = decodeProxySettings({
    listen: ":1",
    backends: ["a:1"],
    check: "send-expect",
    checkSend: "PING\r\n",
    checkExpect: "^\\+PONG",
  });
  t.deepEqual(
    E.map((s: { check: unknown }) => s.check)(decoded),
    E.right({ kind: "send-expect", send: "PING\r\n", expect: "^\\+PONG" }),
  );
});

test("a backend may be an object with settings of its own; bad ones are named by path", (t) => {
  const decoded = decodeProxySettings({
    listen: ":1",
    backends: ["a:1", { address: "b:2", name: "b", check: "redis", rise: 2 }],
  });
  t.deepEqual(
    E.map((s: { backends: unknown }) => s.backends)(decoded),
    E.right([
      { address: { host: "a", port: 1 }, label: "a:1" },
      {
        address: { host: "b", port: 2 },
        label: "b:2",
        name: "b",
        check: { kind: "redis" },
        rise: 2,
      },
    ]),
  );
  t.is(
    problems({ backends: ["a:1", { address: "b:2", check: "redsi", rise: 0, colour: 1 }] }),
    "options.backends[1].colour: unknown option (known options: address, name, check, rise, fall, sendProxy, maxconn)",
  );
  t.is(
    problems({ backends: [{ address: "b:2", check: "redsi", rise: 0 }] }),
    [
      'options.backends[0].check: unknown check kind "redsi" (expected tcp, redis, redis-primary, mysql, mysql-primary, pgsql, pgsql-primary, http:/PATH or send-expect)',
      "options.backends[0].rise: expected an integer >= 1, got 0",
    ].join("\n"),
  );
  t.is(
    problems({ backends: [{ address: "b" }] }),
    'options.backends[0].address: invalid backend address "b": missing port',
  );
  t.is(
    problems({ backends: [{ address: "b:1", check: "pgsql-primary" }] }),
    "options.backends[0].check: the pgsql-primary check logs in: options.checkUser is needed",
  );
});
