// Checkout in every mode, as a Next.js route handler starts it and a success page reads it back.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import Stripe from 'stripe';
import {monthlyPrice, oneTimePrice, pay, payingCustomer, stripe, unique} from '../lib/sim.mjs';

const URLS = {success_url: 'https://app.example/success?session_id={CHECKOUT_SESSION_ID}',
              cancel_url: 'https://app.example/pricing'};

test('subscription mode: pay, then read the session with its subscription and line items', async () => {
  const price = await monthlyPrice(1900, {lookup_key: unique('starter')});
  const customer = await stripe.customers.create({email: `${unique('s')}@example.com`});
  const session = await stripe.checkout.sessions.create({
    ...URLS, mode: 'subscription', customer: customer.id, client_reference_id: 'user_1',
    line_items: [{price: price.id, quantity: 1}],
    subscription_data: {metadata: {user_id: 'user_1'}}});
  assert.equal(session.status, 'open');
  assert.match(session.url, /\/c\/pay\/cs_test_/);
  await pay(session.id);
  const done = await stripe.checkout.sessions.retrieve(session.id, {
    expand: ['line_items', 'subscription', 'total_details.breakdown', 'invoice.confirmation_secret']});
  assert.deepEqual([done.status, done.payment_status], ['complete', 'paid']);
  assert.equal(done.subscription.status, 'active');
  assert.deepEqual(done.subscription.metadata, {user_id: 'user_1'});
  assert.equal(done.line_items.data[0].price.id, price.id);
  assert.deepEqual(done.total_details.breakdown, {discounts: [], taxes: []});
  assert.equal(done.invoice.status, 'paid');
  assert.equal(done.invoice.confirmation_secret.type, 'payment_intent');
});

test('payment mode: a one-time purchase, its line items and its payment intent', async () => {
  const price = await oneTimePrice(700);
  const session = await stripe.checkout.sessions.create({
    ...URLS, mode: 'payment', customer_email: 'guest@example.com',
    line_items: [{price: price.id, quantity: 3}],
    payment_intent_data: {metadata: {order_id: 'o_1'}}});
  assert.equal(session.amount_total, 2100);
  await pay(session.id);
  const items = await stripe.checkout.sessions.listLineItems(session.id);
  assert.equal(items.data[0].quantity, 3);
  const done = await stripe.checkout.sessions.retrieve(session.id, {expand: ['payment_intent']});
  assert.equal(done.payment_status, 'paid');
  assert.equal(done.payment_intent.status, 'succeeded');
  assert.deepEqual(done.payment_intent.metadata, {order_id: 'o_1'});
  assert.equal(done.invoice, null);
});

test('payment mode with invoice_creation: a paid invoice for the purchase', async () => {
  const price = await oneTimePrice(1200);
  const session = await stripe.checkout.sessions.create({
    ...URLS, mode: 'payment', line_items: [{price: price.id}],
    invoice_creation: {enabled: true, invoice_data: {metadata: {order_id: 'o_2'}}}});
  await pay(session.id);
  const done = await stripe.checkout.sessions.retrieve(session.id, {expand: ['invoice']});
  assert.equal(done.invoice.status, 'paid');
  assert.equal(done.invoice.amount_paid, 1200);
  assert.deepEqual(done.invoice.metadata, {order_id: 'o_2'});
  assert.equal(done.invoice.customer, done.customer);
});

test('setup mode: a card saved for later, without a charge', async () => {
  const customer = await stripe.customers.create({email: `${unique('setup')}@example.com`});
  const session = await stripe.checkout.sessions.create({
    ...URLS, mode: 'setup', customer: customer.id, currency: 'usd'});
  await pay(session.id);
  const done = await stripe.checkout.sessions.retrieve(session.id, {expand: ['setup_intent']});
  assert.deepEqual([done.status, done.payment_status], ['complete', 'no_payment_required']);
  assert.equal(done.setup_intent.status, 'succeeded');
  const cards = await stripe.customers.listPaymentMethods(customer.id);
  assert.equal(cards.data[0].id, done.setup_intent.payment_method);
});

test('a free trial checks out with no payment required', async () => {
  const price = await monthlyPrice(2900);
  const session = await stripe.checkout.sessions.create({
    ...URLS, mode: 'subscription', line_items: [{price: price.id}],
    subscription_data: {trial_period_days: 7}});
  await pay(session.id);
  const done = await stripe.checkout.sessions.retrieve(session.id, {expand: ['subscription']});
  assert.equal(done.payment_status, 'no_payment_required');
  assert.equal(done.subscription.status, 'trialing');
});

test('an abandoned session expires and can no longer be paid', async () => {
  const price = await oneTimePrice();
  const session = await stripe.checkout.sessions.create({
    ...URLS, mode: 'payment', line_items: [{price: price.id}]});
  const expired = await stripe.checkout.sessions.expire(session.id);
  assert.deepEqual([expired.status, expired.url], ['expired', null]);
  await assert.rejects(pay(session.id), (error) => error.status === 400);
});

test('a declined card leaves the session open', async () => {
  const price = await oneTimePrice();
  const session = await stripe.checkout.sessions.create({
    ...URLS, mode: 'payment', line_items: [{price: price.id}]});
  await assert.rejects(pay(session.id, {payment_method: 'pm_card_visa_chargeDeclined'}),
    (error) => error.status === 402 && error.body.error.code === 'card_declined');
  assert.equal((await stripe.checkout.sessions.retrieve(session.id)).status, 'open');
});

test('automatic tax for an existing customer needs an address or customer_update', async () => {
  const price = await monthlyPrice();
  const customer = await stripe.customers.create({email: `${unique('tax')}@example.com`});
  const params = {...URLS, mode: 'subscription', customer: customer.id,
                  automatic_tax: {enabled: true}, line_items: [{price: price.id}]};
  await assert.rejects(stripe.checkout.sessions.create(params), (error) =>
    error instanceof Stripe.errors.StripeInvalidRequestError &&
    error.code === 'customer_tax_location_invalid');
  const session = await stripe.checkout.sessions.create({
    ...params, customer_update: {address: 'auto', name: 'auto'}});
  await pay(session.id, {address: {country: 'US', postal_code: '10001'}});
  assert.equal((await stripe.customers.retrieve(customer.id)).address.country, 'US');
});

test('mode and price type must agree; customer_update needs a customer', async () => {
  const recurring = await monthlyPrice();
  const once = await oneTimePrice();
  await assert.rejects(stripe.checkout.sessions.create({
    ...URLS, mode: 'payment', line_items: [{price: recurring.id}]}),
  (error) => error.message.includes('You specified `payment` mode but passed a recurring price'));
  await assert.rejects(stripe.checkout.sessions.create({
    ...URLS, mode: 'subscription', line_items: [{price: once.id}]}),
  (error) => error.message.includes('at least one recurring price'));
  await assert.rejects(stripe.checkout.sessions.create({
    ...URLS, mode: 'payment', customer_update: {address: 'auto'}, line_items: [{price: once.id}]}),
  (error) => error.message.includes('`customer_update` can only be used with `customer`'));
  await assert.rejects(stripe.checkout.sessions.create({
    ...URLS, mode: 'subscription', line_items: [{price: recurring.id}],
    invoice_creation: {enabled: true}}),
  (error) => error.message.includes('You can only enable invoice creation when mode is set to payment'));
});

test('allowed_payment_method_types keeps what the mode can use', async () => {
  const price = await monthlyPrice();
  const customer = await payingCustomer();
  const session = await stripe.checkout.sessions.create({
    ...URLS, mode: 'subscription', customer: customer.id, line_items: [{price: price.id}],
    allowed_payment_method_types: ['card', 'wechat_pay', 'sepa_debit']});
  assert.deepEqual(session.payment_method_types, ['card', 'sepa_debit']);
});
