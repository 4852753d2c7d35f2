import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import { parseCommandLine } from "../src/cli/parse.js";
import { runCli } from "./helpers/cli.js";

const ADDRS = ["127.0.0.1:0", "127.0.0.1:1"];

/** One setting of a parsed command line, or its usage error. */
const setting = async (args: ReadonlyArray<string>, key: string): Promise<unknown> => {
  const parsed = await parseCommandLine(args);
  return E.isRight(parsed) ? (parsed.right as Record<string, unknown>)[key] : parsed.left;
};

/** Bad values: one line naming the flag and the value, the usage hint, exit 2, nothing listens. */
const refused: ReadonlyArray<[ReadonlyArray<string>, RegExp]> = [
  [
    ["-check=mysq"],
    /^tcp-fallback: invalid value "mysq" for flag -check: unknown check kind "mysq" \(expected tcp, /,
  ],
  [["-rise=0"], /^tcp-fallback: invalid value "0" for flag -rise: must be an integer >= 1$/],
  [
    ["-check-password-file=/nonexistent/pw"],
    /^tcp-fallback: invalid value "\/nonexistent\/pw" for flag -check-password-file: no such file$/,
  ],
  [
    ["-check=mysql-primary"],
    /^tcp-fallback: -check: the mysql-primary check logs in: -check-user is needed$/,
  ],
];

for (const [flags, message] of refused) {
  test(`${flags.join(" ")}: one line naming it, exit 2, nothing listens`, async (t) => {
    const run = runCli([...flags, ...ADDRS]);
    t.is(await run.exited, 2);
    const lines = run.stderr().trim().split("\n");
    t.regex(lines[0] ?? "", message);
    t.regex(lines[1] ?? "", /tcp-fallback -h/);
    t.is(lines.length, 2);
  });
}

test("the password file's one trailing newline is ignored, and the password reaches the checks", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-pw-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "pw");
  await writeFile(file, "s3cret\n\n");
  t.deepEqual(
    await setting(
      [`-check-password-file=${file}`, "-check-user=checker", ...ADDRS],
      "checkCredentials",
    ),
    { user: "checker", password: "s3cret\n", database: undefined },
  );
  await writeFile(file, "");
  t.deepEqual(
    await parseCommandLine([`-check-password-file=${file}`, ...ADDRS]),
    E.left({
      message: `invalid value ${JSON.stringify(file)} for flag -check-password-file: the file is empty`,
    }),
  );
});

test("-check, -check-send and -check-expect fill the library's options", async (t) => {
  t.deepEqual(
    await setting(
      ["-check=send-expect", "-check-send=PING\\r\\n", "-check-expect=^\\+PONG", ...ADDRS],
      "check",
    ),
    { kind: "send-expect", send: "PING\r\n", expect: "^\\+PONG" },
  );
  t.deepEqual(await setting(["-check=http:/primary", ...ADDRS], "check"), {
    kind: "http",
    path: "/primary",
  });
});
