// The customer portal a "Manage billing" button opens, and renewals on a test clock.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {control, DAY, monthlyPrice, payingCustomer, stripe, T0} from '../lib/sim.mjs';

test('a portal session opens on stripesim, with and without a flow', async () => {
  const price = await monthlyPrice();
  const customer = await payingCustomer();
  const sub = await stripe.subscriptions.create({customer: customer.id, items: [{price: price.id}]});
  const config = await stripe.billingPortal.configurations.create({
    business_profile: {headline: 'Manage your plan'},
    features: {invoice_history: {enabled: true}, payment_method_update: {enabled: true},
               subscription_cancel: {enabled: true, mode: 'at_period_end'},
               subscription_update: {enabled: true, default_allowed_updates: ['price'],
                                     products: [{product: price.product, prices: [price.id]}]}}});
  const session = await stripe.billingPortal.sessions.create({
    customer: customer.id, configuration: config.id, return_url: 'https://app.example/account'});
  assert.match(session.url, /\/p\/session\//);
  assert.equal(session.return_url, 'https://app.example/account');
  const page = await fetch(session.url);
  assert.equal(page.status, 200);
  const cancel = await stripe.billingPortal.sessions.create({customer: customer.id,
    flow_data: {type: 'subscription_cancel', subscription_cancel: {subscription: sub.id}}});
  assert.equal(cancel.flow.type, 'subscription_cancel');
});

test('a test clock renews the subscription month after month', async () => {
  const price = await monthlyPrice(1200);
  const clock = await stripe.testHelpers.testClocks.create({frozen_time: T0, name: 'renewals'});
  const customer = await payingCustomer({test_clock: clock.id});
  const sub = await stripe.subscriptions.create({customer: customer.id, items: [{price: price.id}]});
  const advancing = await stripe.testHelpers.testClocks.advance(clock.id,
    {frozen_time: T0 + 32 * DAY});
  assert.equal(advancing.status, 'advancing');
  const ready = await control('POST', `/_sim/test_clocks/${clock.id}/wait`);
  assert.equal(ready.status, 'ready');
  const invoices = await stripe.invoices.list({subscription: sub.id});
  assert.deepEqual(invoices.data.map((i) => [i.billing_reason, i.status]),
                   [['subscription_cycle', 'paid'], ['subscription_create', 'paid']]);
  const renewed = await stripe.subscriptions.retrieve(sub.id);
  assert.ok(renewed.items.data[0].current_period_start >= T0 + 28 * DAY);
  const gone = await stripe.testHelpers.testClocks.del(clock.id);
  assert.equal(gone.deleted, true);
});
