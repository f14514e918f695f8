// Real Better Auth servers for tests/clients/test_better_auth.py: memory adapter, email and
// password sign-in, the JWT plugin. One process serves every instance that BETTER_AUTH_INSTANCES
// lists (JSON: [{"port", "alg", "issuer"?, "audience"?, "rotationSeconds"?}]), each on its own port,
// with the front end's routes under /api/auth. Prints "ready <port>..." once all listen.
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { jwt } from "better-auth/plugins";
import { toNodeHandler } from "better-auth/node";

const KEY_PAIRS = {
  EdDSA: { alg: "EdDSA", crv: "Ed25519" },
  ES256: { alg: "ES256" },
  RS256: { alg: "RS256", modulusLength: 2048 },
};

function instance({ port, alg, issuer, audience, rotationSeconds }) {
  const baseURL = `http://127.0.0.1:${port}`;
  const keyPairConfig = KEY_PAIRS[alg];
  if (!keyPairConfig) throw new Error(`unknown alg ${alg}`);
  const auth = betterAuth({
    baseURL,
    secret: randomBytes(32).toString("hex"), // each instance its own, as two deployments would have
    database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [] }),
    emailAndPassword: { enabled: true },
    trustedOrigins: [baseURL],
    logger: { level: "error" },
    plugins: [
      jwt({
        // rotationInterval: a key expires after that many seconds and the next token is signed by
        // a new key pair; the JWKS keeps publishing the old key for the grace period.
        jwks: { keyPairConfig, ...(rotationSeconds ? { rotationInterval: rotationSeconds } : {}) },
        jwt: { issuer: issuer ?? baseURL, audience: audience ?? baseURL, expirationTime: "15m" },
      }),
    ],
  });
  const server = createServer(toNodeHandler(auth));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

const instances = JSON.parse(process.env.BETTER_AUTH_INSTANCES ?? "[]");
const servers = await Promise.all(instances.map(instance));
console.log(`ready ${instances.map((i) => i.port).join(" ")}`);
const stop = () => {
  for (const server of servers) server.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
