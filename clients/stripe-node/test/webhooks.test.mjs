// The webhook route of a Next.js app: verify the signature with constructEvent, then act.
import assert from 'node:assert/strict';
import {after, before, test} from 'node:test';
import Stripe from 'stripe';
import {flush, monthlyPrice, pay, stripe, unique, webhookReceiver} from '../lib/sim.mjs';

let receiver;
before(async () => { receiver = await webhookReceiver(); });
after(async () => { await receiver.close(); });

function eventsFor(secret, objectId) {
  return receiver.received
    .map((r) => ({raw: r, event: stripe.webhooks.constructEvent(r.body, r.signature, secret)}))
    .filter(({event}) => JSON.stringify(event.data.object).includes(objectId));
}

test('deliveries verify with constructEvent and carry the endpoint\'s API version', async () => {
  const endpoint = await stripe.webhookEndpoints.create({
    url: receiver.url, enabled_events: ['customer.created', 'checkout.session.completed',
                                        'customer.subscription.created', 'invoice.paid'],
    api_version: '2026-11-18.endive'});
  assert.match(endpoint.secret, /^whsec_/);
  const price = await monthlyPrice();
  const customer = await stripe.customers.create({email: `${unique('hook')}@example.com`});
  const session = await stripe.checkout.sessions.create({
    mode: 'subscription', customer: customer.id, line_items: [{price: price.id}],
    success_url: 'https://app.example/ok'});
  await pay(session.id);
  await flush();
  const mine = eventsFor(endpoint.secret, customer.id);
  const types = mine.map(({event}) => event.type);
  for (const type of ['customer.created', 'checkout.session.completed',
                      'customer.subscription.created', 'invoice.paid']) {
    assert.ok(types.includes(type), `${type} in ${types}`);
  }
  for (const {event} of mine) {
    assert.equal(event.api_version, '2026-11-18.endive');
    assert.match(event.id, /^evt_/);
  }
  const completed = mine.find(({event}) => event.type === 'checkout.session.completed').event;
  assert.equal(completed.data.object.id, session.id);
  await stripe.webhookEndpoints.del(endpoint.id);
});

test('a tampered body or a wrong secret fails verification', async () => {
  const endpoint = await stripe.webhookEndpoints.create({url: `${receiver.url}&tamper`,
                                                          enabled_events: ['product.created']});
  const prod = await stripe.products.create({name: unique('Signed')});
  await flush();
  const delivery = receiver.received.find((r) => r.body.includes(prod.id));
  assert.ok(delivery);
  const event = stripe.webhooks.constructEvent(delivery.body, delivery.signature, endpoint.secret);
  assert.equal(event.type, 'product.created');
  assert.throws(() => stripe.webhooks.constructEvent(delivery.body.replace(prod.id, 'prod_x'),
    delivery.signature, endpoint.secret), Stripe.errors.StripeSignatureVerificationError);
  assert.throws(() => stripe.webhooks.constructEvent(delivery.body, delivery.signature,
    'whsec_wrong'), Stripe.errors.StripeSignatureVerificationError);
  const header = stripe.webhooks.generateTestHeaderString({payload: delivery.body,
                                                            secret: endpoint.secret});
  assert.equal(stripe.webhooks.constructEvent(delivery.body, header, endpoint.secret).id, event.id);
  await stripe.webhookEndpoints.del(endpoint.id);
});

test('events are listed and filtered by type', async () => {
  const prod = await stripe.products.create({name: unique('Listed')});
  const events = await stripe.events.list({type: 'product.created', limit: 100})
    .autoPagingToArray({limit: 1000});
  const mine = events.filter((event) => event.data.object.id === prod.id);
  assert.equal(mine.length, 1);
  const read = await stripe.events.retrieve(mine[0].id);
  assert.equal(read.api_version, '2026-11-18.endive');
});
