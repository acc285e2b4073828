// graphql-http's auditServer against a running server: node audit.mjs <url>
// The bearer token comes from $AUDIT_TOKEN (not argv: process lists are public), and is
// added to every request the audit makes. Prints one JSON object: the results, then exits
// 0 when every audit is "ok", 1 otherwise.
import { auditServer } from "graphql-http";

const url = process.argv[2];
const token = process.env.AUDIT_TOKEN;
if (!url || !token) {
  console.error("usage: AUDIT_TOKEN=<jwt> node audit.mjs <url>");
  process.exit(2);
}

function fetchWithToken(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn: fetchWithToken });
const summary = { ok: 0, notice: 0, warn: 0, error: 0 };
const failures = [];
for (const result of results) {
  summary[result.status] += 1;
  if (result.status !== "ok") {
    let body = null;
    try {
      body = await result.response.text();
    } catch {
      // the audit may have read it already
    }
    failures.push({
      id: result.id,
      name: result.name,
      status: result.status,
      reason: result.reason,
      httpStatus: result.response?.status,
      contentType: result.response?.headers.get("content-type"),
      body,
    });
  }
}
console.log(JSON.stringify({ total: results.length, ...summary, failures }, null, 2));
process.exit(failures.length === 0 ? 0 : 1);
