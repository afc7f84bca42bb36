// API versions: stripe-node pins its version; stripesim answers in it.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import Stripe from 'stripe';
import {client, stripe} from '../lib/sim.mjs';

test('stripe-node 23.2 pins 2026-11-18.endive and is answered in it', async () => {
  const customer = await stripe.customers.create({});
  assert.equal(Stripe.API_VERSION, '2026-11-18.endive');
  assert.equal(customer.lastResponse.apiVersion, '2026-11-18.endive');
  const pi = await stripe.paymentIntents.create({
    amount: 1000, currency: 'usd', confirm: true, payment_method: 'pm_card_visa'});
  const refund = await stripe.refunds.create({payment_intent: pi.id});
  assert.ok('application' in refund, 'refund.application arrived in 2026-11-18');
});

test('a client pinned to 2024-04-10 reads subscription periods and invoice links', async () => {
  const old = client({config: {apiVersion: '2024-04-10'}});
  const customer = await old.customers.create({
    payment_method: 'pm_card_visa', invoice_settings: {default_payment_method: 'pm_card_visa'}});
  const price = await old.prices.create({currency: 'usd', unit_amount: 900,
    recurring: {interval: 'month'}, product_data: {name: 'Old'}});
  const sub = await old.subscriptions.create({customer: customer.id, items: [{price: price.id}],
    expand: ['latest_invoice.payment_intent']});
  assert.equal(sub.lastResponse.apiVersion, '2024-04-10');
  assert.equal(typeof sub.current_period_end, 'number');
  assert.equal(sub.latest_invoice.subscription, sub.id);
  assert.equal(sub.latest_invoice.payment_intent.status, 'succeeded');
  assert.equal(sub.latest_invoice.lines.data[0].type, 'subscription');
});

test('an unknown API version is refused as Stripe refuses it', async () => {
  await assert.rejects(client({config: {apiVersion: '2026-13-01'}}).customers.list(), (error) =>
    error instanceof Stripe.errors.StripeInvalidRequestError &&
    error.message.includes('Invalid Stripe API version: 2026-13-01'));
});

test('the account is there on first use of a key', async () => {
  const account = await stripe.accounts.retrieve();
  assert.match(account.id, /^acct_/);
  assert.equal(account.charges_enabled, true);
  assert.equal(account.default_currency, 'usd');
});
