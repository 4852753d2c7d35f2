/**
 * A failure reason as a short code for a metric label, so the label stays bounded whatever
 * the reason text says (addresses, server messages): the system error code when the reason
 * has one (ECONNREFUSED, ECONNRESET...), "timeout" for a time limit, otherwise "other".
 */
export const failureCode = (reason: string): string => {
  const code = /\b(E[A-Z0-9]{3,15})\b/.exec(reason)?.[1];
  if (code !== undefined) return code;
  if (/\btime(?:d)?\s*out\b|\btimeout\b/i.test(reason)) return "timeout";
  return "other";
};
