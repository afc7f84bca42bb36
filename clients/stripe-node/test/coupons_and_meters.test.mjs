// Coupons and promotion codes on subscriptions and Checkout, usage-based billing with Billing
// Meters, and credit on the customer's balance: what a SaaS backend adds after launch.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import Stripe from 'stripe';
import {control, DAY, monthlyPrice, pay, payingCustomer, stripe, T0, unique} from '../lib/sim.mjs';

test('a promotion code lowers a subscription\'s invoices while its coupon lasts', async () => {
  const price = await monthlyPrice(5000);
  const coupon = await stripe.coupons.create({percent_off: 20, duration: 'repeating',
                                              duration_in_months: 2, name: 'Launch'});
  const code = await stripe.promotionCodes.create({promotion: {type: 'coupon', coupon: coupon.id},
                                                   code: unique('LAUNCH').toUpperCase()});
  const clock = await stripe.testHelpers.testClocks.create({frozen_time: T0});
  const customer = await payingCustomer({test_clock: clock.id});
  const sub = await stripe.subscriptions.create({customer: customer.id, items: [{price: price.id}],
    discounts: [{promotion_code: code.id}], expand: ['latest_invoice', 'discounts']});
  assert.equal(sub.latest_invoice.total, 4000);
  assert.equal(sub.latest_invoice.total_discount_amounts[0].amount, 1000);
  assert.equal(sub.discounts[0].promotion_code, code.id);
  const found = await stripe.promotionCodes.list({code: code.code});
  assert.deepEqual(found.data.map((c) => c.id), [code.id]);
  const withProducts = await stripe.coupons.retrieve(coupon.id, {expand: ['applies_to']});
  assert.deepEqual(withProducts.applies_to, {products: []});
  for (const month of [1, 2, 3]) {
    await control('POST', `/_sim/test_clocks/${clock.id}/advance`,
                  {frozen_time: T0 + month * 31 * DAY});
  }
  const totals = (await stripe.invoices.list({subscription: sub.id})).data
    .map((invoice) => invoice.total).reverse();
  assert.deepEqual(totals, [4000, 4000, 5000, 5000]);
});

test('a code typed in Checkout discounts the purchase', async () => {
  const prod = await stripe.products.create({name: unique('Course')});
  const price = await stripe.prices.create({product: prod.id, currency: 'usd', unit_amount: 10_000});
  const coupon = await stripe.coupons.create({amount_off: 2500, currency: 'usd', duration: 'once'});
  const code = await stripe.promotionCodes.create({promotion: {type: 'coupon', coupon: coupon.id},
                                                   code: unique('EARLY').toUpperCase()});
  const session = await stripe.checkout.sessions.create({
    mode: 'payment', line_items: [{price: price.id}], allow_promotion_codes: true,
    success_url: 'https://app.example/ok'});
  await control('POST', `/_sim/checkout/sessions/${session.id}/promotion_code`, {code: code.code});
  await pay(session.id);
  const done = await stripe.checkout.sessions.retrieve(session.id,
    {expand: ['payment_intent', 'total_details.breakdown']});
  assert.equal(done.amount_total, 7500);
  assert.equal(done.total_details.amount_discount, 2500);
  assert.equal(done.payment_intent.amount, 7500);
  await assert.rejects(stripe.checkout.sessions.create({
    mode: 'payment', line_items: [{price: price.id}], allow_promotion_codes: true,
    discounts: [{coupon: coupon.id}], success_url: 'https://app.example/ok'}),
  (error) => error instanceof Stripe.errors.StripeInvalidRequestError);
});

test('metered usage reported to a meter is billed at the renewal', async () => {
  const eventName = unique('api_calls');
  const meter = await stripe.billing.meters.create({display_name: 'API calls',
    event_name: eventName, default_aggregation: {formula: 'sum'}});
  const base = await monthlyPrice(1000);
  const usage = await stripe.prices.create({currency: 'usd', unit_amount: 2,
    product_data: {name: unique('Calls')},
    recurring: {interval: 'month', usage_type: 'metered', meter: meter.id}});
  const clock = await stripe.testHelpers.testClocks.create({frozen_time: T0});
  const customer = await payingCustomer({test_clock: clock.id});
  const sub = await stripe.subscriptions.create({customer: customer.id,
    items: [{price: base.id}, {price: usage.id}]});
  await control('POST', `/_sim/test_clocks/${clock.id}/advance`, {frozen_time: T0 + 10 * DAY});
  for (const [n, value] of [[1, '700'], [2, '300']]) {
    const event = await stripe.billing.meterEvents.create({event_name: eventName,
      identifier: `${eventName}-${n}`, payload: {stripe_customer_id: customer.id, value}});
    assert.equal(event.timestamp, T0 + 10 * DAY);
  }
  await assert.rejects(stripe.billing.meterEvents.create({event_name: eventName,
    identifier: `${eventName}-1`, payload: {stripe_customer_id: customer.id, value: '1'}}));
  const summaries = await stripe.billing.meters.listEventSummaries(meter.id, {
    customer: customer.id, start_time: T0, end_time: T0 + 11 * DAY});
  assert.equal(summaries.data.reduce((sum, s) => sum + s.aggregated_value, 0), 1000);
  const preview = await stripe.invoices.createPreview({subscription: sub.id});
  assert.equal(preview.total, 1000 + 2000);
  await control('POST', `/_sim/test_clocks/${clock.id}/advance`, {frozen_time: T0 + 33 * DAY});
  const renewal = (await stripe.invoices.list({subscription: sub.id, limit: 1})).data[0];
  assert.equal(renewal.billing_reason, 'subscription_cycle');
  assert.equal(renewal.total, 3000);
  assert.equal(renewal.status, 'paid');
});

test('a credit on the customer\'s balance pays the next invoice first', async () => {
  const customer = await payingCustomer();
  const credit = await stripe.customers.createBalanceTransaction(customer.id,
    {amount: -700, currency: 'usd', description: 'Goodwill'});
  assert.equal(credit.ending_balance, -700);
  const price = await monthlyPrice(1000);
  const sub = await stripe.subscriptions.create({customer: customer.id, items: [{price: price.id}],
    expand: ['latest_invoice']});
  assert.equal(sub.latest_invoice.amount_due, 300);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, 0);
  const ledger = await stripe.customers.listBalanceTransactions(customer.id);
  assert.deepEqual(ledger.data.map((t) => t.type), ['applied_to_invoice', 'adjustment']);
});

test('a credit note refunds part of a paid invoice', async () => {
  const customer = await payingCustomer();
  const price = await monthlyPrice(4000);
  const sub = await stripe.subscriptions.create({customer: customer.id, items: [{price: price.id}]});
  const note = await stripe.creditNotes.create({invoice: sub.latest_invoice, amount: 1000,
    refund_amount: 1000, reason: 'order_change'});
  assert.equal(note.status, 'issued');
  assert.equal(note.amount, 1000);
  assert.equal(note.invoice, sub.latest_invoice);
  const refund = await stripe.refunds.retrieve(note.refunds[0].refund);
  assert.equal(refund.amount, 1000);
});
