// A real OpenID Connect provider for the single sign-on tests: oidc-provider, as certified,
// with its own development login and consent pages, on a free loopback port.
//
//   node provider.mjs CONFIG.json
//
// CONFIG.json: {"clients": [...oidc-provider client metadata], "accounts": {"<login>": {claims}},
//               "issuer": "https://..." (optional)}.
// Prints one line, {"issuer": "...", "port": <port>}, once it listens on 127.0.0.1:<port>.
//
// Without "issuer" it is http://127.0.0.1:<port>, reached directly. With one, it is behind a
// reverse proxy that terminates TLS (the browser suite's nginx): the provider then believes the
// proxy's X-Forwarded-Proto and -Host (Koa's `proxy`, which oidc-provider documents for TLS
// offloading), so that its endpoints are https and its cookies may be secure.
//
// Tests can make the provider misbehave the way real ones do (a token for another audience,
// an expired token): POST /test-control/next-id-token with {"claims": {...}, "exp_offset": N}
// and the next ID token it issues is re-signed, with the provider's own key, with those claims
// changed. The key is the one its discovery document publishes, so only the claims are wrong.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const { privateKey } = await generateKeyPair("RS256", { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: "test-key", alg: "RS256", use: "sig" };

let nextIdToken = null; // the one-shot change asked for by a test

async function findAccount(_ctx, id) {
  const claims = config.accounts[id];
  if (!claims) return undefined;
  return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {};
}

async function resign(idToken, change) {
  const claims = { ...decodeJwt(idToken), ...(change.claims || {}) };
  if (change.exp_offset !== undefined) {
    const now = Math.floor(Date.now() / 1000);
    claims.exp = now + change.exp_offset;
    claims.iat = Math.min(claims.iat, claims.exp - 60);
  }
  return new SignJWT(claims).setProtectedHeader(decodeProtectedHeader(idToken)).sign(privateKey);
}

const server = createServer();
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  const issuer = config.issuer || `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: config.clients,
    findAccount,
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name"],
      groups: ["groups"],
    },
    scopes: ["openid", "email", "profile", "groups"],
    // Refuse any authorisation request without PKCE: the tests prove the client sends it.
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
  });

  // Only the loopback proxy can reach this port, so its forwarding headers can be believed.
  if (config.issuer) provider.proxy = true;

  provider.use(async (ctx, next) => {
    if (ctx.method === "POST" && ctx.path === "/test-control/next-id-token") {
      const change = await readJson(ctx.req);
      nextIdToken = change.claims || change.exp_offset !== undefined ? change : null;
      ctx.status = 204;
      return;
    }
    await next();
    if (ctx.path === "/token" && nextIdToken && ctx.body && ctx.body.id_token) {
      ctx.body = { ...ctx.body, id_token: await resign(ctx.body.id_token, nextIdToken) };
      nextIdToken = null;
    }
  });

  server.on("request", provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
