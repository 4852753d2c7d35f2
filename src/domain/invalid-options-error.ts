/** Options that do not decode, or code options that do not behave; one line per problem. */
export class InvalidOptionsError extends Error {
  override readonly name = "InvalidOptionsError";
}
