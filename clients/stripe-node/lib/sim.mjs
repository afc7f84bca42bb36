// What every test shares: a stripe-node client pointed at stripesim (STRIPESIM_URL), the
// control routes a test harness uses, and unique names so test files can run side by side.
import {randomUUID} from 'node:crypto';
import http from 'node:http';
import Stripe from 'stripe';

export const SIM_URL = process.env.STRIPESIM_URL;
if (!SIM_URL) {
  throw new Error('STRIPESIM_URL is not set: run these tests through tests/clients/test_stripe_node.py');
}
const address = new URL(SIM_URL);

/** A client configured as a Next.js backend would configure it, but for stripesim's address. */
export function client(options = {}) {
  return new Stripe(options.key ?? 'sk_test_nextjs_backend', {
    host: address.hostname, port: Number(address.port), protocol: 'http',
    maxNetworkRetries: 0, ...options.config,
  });
}

export const stripe = client();
export const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z: test clocks start here, whatever today is
export const DAY = 86_400;

export const unique = (prefix) => `${prefix}_${randomUUID().slice(0, 8)}`;

/** A stripesim control route (no key, JSON); throws with the answer on a non-2xx status. */
export async function control(method, path, body) {
  const response = await fetch(SIM_URL + path, {
    method, headers: {'content-type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) {
    const error = new Error(`${method} ${path}: ${response.status} ${text}`);
    error.status = response.status;
    error.body = JSON.parse(text);
    throw error;
  }
  return JSON.parse(text);
}

/** Deliver every queued webhook now. */
export const flush = () => control('POST', '/_sim/flush', {timeout_s: 15});

/** Pay an open Checkout Session as the buyer would on the hosted page. */
export const pay = (sessionId, body = {}) =>
  control('POST', `/_sim/checkout/sessions/${sessionId}/complete`,
          {payment_method: 'pm_card_visa', ...body});

export async function product(name = 'Pro') {
  return stripe.products.create({name: unique(name)});
}

export async function monthlyPrice(amount = 2000, extra = {}) {
  const prod = await product();
  return stripe.prices.create({
    product: prod.id, currency: 'usd', unit_amount: amount, recurring: {interval: 'month'}, ...extra,
  });
}

export async function oneTimePrice(amount = 500) {
  const prod = await product('Credits');
  return stripe.prices.create({product: prod.id, currency: 'usd', unit_amount: amount});
}

/** A customer with a saved Visa as default, optionally on a test clock. */
export async function payingCustomer(extra = {}) {
  return stripe.customers.create({
    email: `${unique('buyer')}@example.com`, payment_method: 'pm_card_visa',
    invoice_settings: {default_payment_method: 'pm_card_visa'}, ...extra,
  });
}

/** A loopback server a webhook endpoint can point at; keeps every raw body and signature. */
export async function webhookReceiver() {
  const received = [];
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      received.push({body: Buffer.concat(chunks).toString('utf8'),
                     signature: request.headers['stripe-signature']});
      response.writeHead(200).end('ok');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/api/webhooks/stripe?${unique('r')}`;
  return {url, received, close: () => new Promise((resolve) => server.close(resolve))};
}
