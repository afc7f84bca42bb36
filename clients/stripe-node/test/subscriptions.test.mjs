// Subscriptions from the backend: incomplete first payment collected by a page, plan changes
// previewed then applied, cancellation and resumption.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {control, DAY, monthlyPrice, payingCustomer, stripe, T0} from '../lib/sim.mjs';

test('default_incomplete: the page gets the confirmation secret of the first invoice', async () => {
  const price = await monthlyPrice(1500);
  const customer = await stripe.customers.create({});
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{price: price.id}], payment_behavior: 'default_incomplete',
    payment_settings: {save_default_payment_method: 'on_subscription'},
    expand: ['latest_invoice.confirmation_secret']});
  assert.equal(sub.status, 'incomplete');
  assert.equal(sub.latest_invoice.status, 'open');
  assert.equal(sub.latest_invoice.confirmation_secret.type, 'payment_intent');
  assert.match(sub.latest_invoice.confirmation_secret.client_secret, /^pi_.+_secret_/);
});

test('a plan change is previewed, then applied with the same proration', async () => {
  const basic = await monthlyPrice(1000);
  const plus = await monthlyPrice(3000);
  const clock = await stripe.testHelpers.testClocks.create({frozen_time: T0});
  const customer = await payingCustomer({test_clock: clock.id});
  const sub = await stripe.subscriptions.create({customer: customer.id, items: [{price: basic.id}]});
  assert.equal(sub.status, 'active');
  await control('POST', `/_sim/test_clocks/${clock.id}/advance`, {frozen_time: T0 + 15 * DAY});
  const renewal = await stripe.invoices.createPreview({subscription: sub.id});
  assert.equal(renewal.billing_reason, 'upcoming');
  assert.equal(renewal.total, 1000);
  const item = sub.items.data[0];
  const change = {items: [{id: item.id, price: plus.id}], proration_date: T0 + 15 * DAY,
                  proration_behavior: 'always_invoice'};
  const preview = await stripe.invoices.createPreview({
    subscription: sub.id, subscription_details: change});
  const prorations = preview.lines.data.filter(
    (line) => line.parent.subscription_item_details?.proration);
  assert.equal(prorations.length, 2);
  const updated = await stripe.subscriptions.update(sub.id, {
    items: [{id: item.id, price: plus.id}], proration_behavior: 'always_invoice',
    proration_date: T0 + 15 * DAY, expand: ['latest_invoice']});
  assert.equal(updated.items.data[0].price.id, plus.id);
  assert.equal(updated.latest_invoice.total, preview.total);
  assert.equal(updated.latest_invoice.status, 'paid');
  const credit = updated.latest_invoice.lines.data.find((line) => line.amount < 0);
  assert.equal(credit.parent.subscription_item_details.proration_details.credited_items.invoice,
               sub.latest_invoice);
});

test('an added item is previewed and added; a removed one is deleted', async () => {
  const base = await monthlyPrice(2000);
  const seats = await monthlyPrice(500);
  const customer = await payingCustomer();
  const sub = await stripe.subscriptions.create({customer: customer.id, items: [{price: base.id}]});
  const preview = await stripe.invoices.createPreview({subscription: sub.id,
    subscription_details: {items: [{price: seats.id, quantity: 3}], proration_behavior: 'none'}});
  assert.equal(preview.total, 2000 + 1500);
  const added = await stripe.subscriptionItems.create({subscription: sub.id, price: seats.id,
    quantity: 3, proration_behavior: 'none'});
  const items = await stripe.subscriptionItems.list({subscription: sub.id});
  assert.equal(items.data.length, 2);
  const removed = await stripe.subscriptionItems.del(added.id, {proration_behavior: 'none'});
  assert.equal(removed.deleted, true);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).items.data.length, 1);
});

test('cancel at period end, change of mind, then cancel now', async () => {
  const price = await monthlyPrice();
  const customer = await payingCustomer();
  const sub = await stripe.subscriptions.create({customer: customer.id, items: [{price: price.id}]});
  const ending = await stripe.subscriptions.update(sub.id, {cancel_at_period_end: true});
  assert.equal(ending.cancel_at_period_end, true);
  assert.equal(ending.cancel_at, ending.items.data[0].current_period_end);
  const kept = await stripe.subscriptions.update(sub.id, {cancel_at_period_end: false});
  assert.equal(kept.cancel_at, null);
  const canceled = await stripe.subscriptions.cancel(sub.id);
  assert.equal(canceled.status, 'canceled');
  const active = await stripe.subscriptions.list({customer: customer.id, status: 'active'});
  assert.equal(active.data.length, 0);
});

test('a declined first payment leaves the subscription incomplete', async () => {
  const price = await monthlyPrice();
  const customer = await stripe.customers.create({payment_method: 'pm_card_chargeCustomerFail',
    invoice_settings: {default_payment_method: 'pm_card_chargeCustomerFail'}});
  const sub = await stripe.subscriptions.create({customer: customer.id, items: [{price: price.id}],
    expand: ['latest_invoice']});
  assert.equal(sub.status, 'incomplete');
  assert.equal(sub.latest_invoice.status, 'open');
});
