import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector";

export interface CpuProfile {
  /** Stops profiling and writes the profile (a V8 .cpuprofile, JSON) to the path; once. */
  stop(): Promise<void>;
}

const post = <T>(session: Session, method: string): Promise<T> =>
  new Promise((resolve, reject) =>
    session.post(method, (error, result) =>
      error === null ? resolve(result as T) : reject(error),
    ),
  );

/** Starts the V8 sampling profiler in this process. */
export const startCpuProfile = async (path: string): Promise<CpuProfile> => {
  const session = new Session();
  session.connect();
  await post(session, "Profiler.enable");
  await post(session, "Profiler.start");
  let stopped: Promise<void> | null = null;
  return {
    stop: () =>
      (stopped ??= (async () => {
        const { profile } = await post<{ profile: unknown }>(session, "Profiler.stop");
        session.disconnect();
        await writeFile(path, JSON.stringify(profile));
      })()),
  };
};
