/** Why a file named on the command line could not be read, in a few words. */
export const readFailure = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return `cannot read it (${(error as Error).message})`;
};
