// Vipps MobilePay's official SDK (@vippsmobilepay/sdk) against the simulator: a token, QR
// payments in each qrFormat, force approve, get, capture, events, cancel and refund, and a
// webhook registration, each answer checked as an integrator would use it.
//
// The SDK calls https://apitest.vipps.no itself; here `fetch` sends those calls to the
// simulator at SIM_URL instead (path and query kept). Prints one line per step; exits 1 on
// the first step that fails.
import { Client } from "@vippsmobilepay/sdk";

const SIM = process.env.SIM_URL;
if (!SIM) {
  console.error("set SIM_URL to the simulator's base URL");
  process.exit(2);
}
const realFetch = globalThis.fetch;
const seen = [];
globalThis.fetch = async (request) => {
  const url = new URL(request.url);
  const target = url.host.endsWith("vipps.no") ? `${SIM}${url.pathname}${url.search}` : request.url;
  const body = ["GET", "HEAD"].includes(request.method) ? undefined : await request.text();
  const answer = await realFetch(target, { method: request.method, headers: request.headers, body });
  seen.push(`${request.method} ${url.pathname} ${answer.status} ${answer.headers.get("content-type")}`);
  return answer;
};

let failed = false;
const step = (name, ok, detail) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
  if (!ok) failed = true;
  return ok;
};

const client = Client({
  merchantSerialNumber: "123456",
  subscriptionKey: "sdk-subscription-key",
  useTestMode: true,
  retryRequests: false,
});

const token = await client.auth.getToken("sdk-client-id", "sdk-client-secret");
if (!step("auth.getToken", token.ok, token.ok ? "" : JSON.stringify(token.error))) process.exit(1);
const jwt = token.data.access_token;
step("the access token is JWT-shaped", jwt.split(".").length === 3, jwt.slice(0, 20) + "…");

const run = Date.now().toString(36);
const amount = { currency: "NOK", value: 4900 };
const formats = { "TEXT/TARGETURL": /^https:\/\/qr\.vipps\.no\//, "IMAGE/PNG": /^https:\/\/qr-image\.vipps\.no\/v1\?token=/, "IMAGE/SVG+XML": /^https:\/\/qr-image\.vipps\.no\/v1\?token=/ };
const references = [];
for (const [format, shape] of Object.entries(formats)) {
  const reference = `sdk-${run}-${format.replace(/[^A-Z]/g, "").toLowerCase()}`;
  references.push(reference);
  const created = await client.payment.create(jwt, {
    amount,
    paymentMethod: { type: "WALLET" },
    reference,
    userFlow: "QR",
    qrFormat: { format, size: 400 },
    customerInteraction: "CUSTOMER_PRESENT",
    paymentDescription: "SDK check",
  });
  step(`payment.create ${format}`, created.ok && created.data.reference === reference, created.ok ? created.data.redirectUrl : JSON.stringify(created.error));
  if (created.ok) step(`  redirectUrl in Vipps' shape`, shape.test(created.data.redirectUrl), created.data.redirectUrl.slice(0, 60));
  if (created.ok && format !== "TEXT/TARGETURL") {
    // The image link, fetched from the simulator by its path and query.
    const link = new URL(created.data.redirectUrl);
    const image = await realFetch(`${SIM}/_sim/qr-image${link.pathname}${link.search}`);
    step(`  the image link answers an image`, image.ok && (image.headers.get("content-type") || "").startsWith("image/"), image.headers.get("content-type"));
  }
}

const [reference, second, third] = references;
const approved = await client.payment.forceApprove(jwt, reference, {});
step("payment.forceApprove {}", approved.ok, approved.ok ? "" : JSON.stringify(approved.error));
const again = await client.payment.forceApprove(jwt, reference, {});
step("payment.forceApprove of an AUTHORIZED payment is refused", !again.ok && again.error?.status === 400, JSON.stringify(again.error));
const info = await client.payment.info(jwt, reference);
step("payment.info", info.ok && info.data.state === "AUTHORIZED", info.ok ? info.data.state : JSON.stringify(info.error));
const captured = await client.payment.capture(jwt, reference, { modificationAmount: amount });
step("payment.capture", captured.ok && captured.data.aggregate.capturedAmount.value === 4900, captured.ok ? JSON.stringify(captured.data.aggregate.capturedAmount) : JSON.stringify(captured.error));
const refunded = await client.payment.refund(jwt, reference, { modificationAmount: { currency: "NOK", value: 900 } });
step("payment.refund", refunded.ok && refunded.data.aggregate.refundedAmount.value === 900, refunded.ok ? "" : JSON.stringify(refunded.error));
const history = await client.payment.history(jwt, reference);
step("payment.history", history.ok && history.data.map((e) => e.name).join(",") === "CREATED,AUTHORIZED,CAPTURED,REFUNDED", history.ok ? history.data.map((e) => e.name).join(",") : JSON.stringify(history.error));
const cancelled = await client.payment.cancel(jwt, second);
step("payment.cancel of a CREATED payment", cancelled.ok && cancelled.data.state === "TERMINATED", cancelled.ok ? cancelled.data.state : JSON.stringify(cancelled.error));
const missing = await client.payment.info(jwt, `sdk-${run}-nowhere`);
step("payment.info of an unknown reference is a problem", !missing.ok && missing.error?.status === 404, JSON.stringify(missing.error));
const hook = await client.webhook.register(jwt, { url: "https://store.example/vipps", events: ["epayments.payment.captured.v1"] });
step("webhook.register", hook.ok && typeof hook.data.secret === "string", hook.ok ? hook.data.id : JSON.stringify(hook.error));
const hooks = await client.webhook.list(jwt);
step("webhook.list", hooks.ok && hooks.data.webhooks.length === 1, hooks.ok ? "" : JSON.stringify(hooks.error));
if (hook.ok) {
  const deleted = await client.webhook.delete(jwt, hook.data.id);
  step("webhook.delete", deleted.ok, deleted.ok ? "" : JSON.stringify(deleted.error));
}
void third;
console.log("calls the SDK made:");
for (const line of seen) console.log(`  ${line}`);
process.exit(failed ? 1 : 0);
