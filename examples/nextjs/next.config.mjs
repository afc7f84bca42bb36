// Only because this example uses the client from this repository (a symlink to ../../clients/typescript):
// Turbopack must see the repository, and React must be this app's one copy, not the client's dev copy.
// An app that installs @coinslot/client from npm needs none of this.
import { fileURLToPath } from "node:url";

const repository = fileURLToPath(new URL("../..", import.meta.url));

/** @type {import("next").NextConfig} */
const nextConfig = {
  outputFileTracingRoot: repository,
  turbopack: {
    root: repository,
    resolveAlias: {
      react: "./examples/nextjs/node_modules/react",
      "react-dom": "./examples/nextjs/node_modules/react-dom",
    },
  },
};

export default nextConfig;
