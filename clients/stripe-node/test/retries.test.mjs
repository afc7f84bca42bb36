// What a backend sees when Stripe is briefly unwell: stripe-node retries 500s with the same
// idempotency key (stripesim replays or runs the request once), and maps 429 to its class.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import Stripe from 'stripe';
import {client, control, stripe, unique} from '../lib/sim.mjs';

test('a 500 is retried by stripe-node and the update happens once', async () => {
  const customer = await stripe.customers.create({});
  await control('POST', '/_sim/faults', {api: [
    {status: 500, path_prefix: `/v1/customers/${customer.id}`, method: 'POST', times: 1}]});
  try {
    const patient = client({config: {maxNetworkRetries: 2}});
    const updated = await patient.customers.update(customer.id, {metadata: {tries: 'x'}});
    assert.deepEqual(updated.metadata, {tries: 'x'});
    const events = await stripe.events.list({type: 'customer.updated', limit: 100});
    assert.equal(events.data.filter((e) => e.data.object.id === customer.id).length, 1);
  } finally {
    await control('DELETE', '/_sim/faults');
  }
});

test('a 429 is a StripeRateLimitError', async () => {
  const marker = unique('limited');
  await control('POST', '/_sim/faults', {api: [
    {status: 429, path_prefix: '/v1/products/search', method: 'GET', times: 1}]});
  try {
    await assert.rejects(stripe.products.search({query: `name:'${marker}'`}), (error) =>
      error instanceof Stripe.errors.StripeRateLimitError && error.statusCode === 429);
  } finally {
    await control('DELETE', '/_sim/faults');
  }
});

test('cards are attached, listed, set as default and detached', async () => {
  const customer = await stripe.customers.create({});
  const visa = await stripe.paymentMethods.attach('pm_card_visa', {customer: customer.id});
  const mastercard = await stripe.paymentMethods.attach('pm_card_mastercard',
                                                        {customer: customer.id});
  await stripe.customers.update(customer.id,
                                {invoice_settings: {default_payment_method: mastercard.id}});
  const cards = await stripe.customers.listPaymentMethods(customer.id, {type: 'card'});
  assert.deepEqual(cards.data.map((pm) => pm.card.brand).sort(), ['mastercard', 'visa']);
  const detached = await stripe.paymentMethods.detach(visa.id);
  assert.equal(detached.customer, null);
  await assert.rejects(stripe.paymentMethods.attach('pm_card_visa_chargeDeclined',
                                                    {customer: customer.id}),
  (error) => error instanceof Stripe.errors.StripeCardError);
});
