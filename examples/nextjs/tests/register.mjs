// Node runs the compiled example as Next.js would bundle it: relative imports without an extension
// (`../lib/billing`) resolve to the compiled `.js` file.
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if ((specifier.startsWith("./") || specifier.startsWith("../")) && !/\\.[cm]?js$/.test(specifier)) {
    return next(specifier + ".js", context);
  }
  return next(specifier, context);
}`),
  import.meta.url,
);
