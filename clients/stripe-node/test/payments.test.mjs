// Payments, refunds and the balance: what an order page and an admin refund button do.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import Stripe from 'stripe';
import {control, payingCustomer, stripe} from '../lib/sim.mjs';

test('a refund links its balance transaction; the charge shows its fee', async () => {
  const pi = await stripe.paymentIntents.create({amount: 10_000, currency: 'usd', confirm: true,
    payment_method: 'pm_card_visa', metadata: {order_id: 'o_9'}});
  assert.equal(pi.status, 'succeeded');
  const charge = await stripe.charges.retrieve(pi.latest_charge, {expand: ['balance_transaction']});
  assert.equal(charge.balance_transaction.fee, 320);
  assert.equal(charge.balance_transaction.net, 9680);
  assert.equal(charge.balance_transaction.fee_details[0].type, 'stripe_fee');
  const refund = await stripe.refunds.create({payment_intent: pi.id, amount: 2500,
                                              reason: 'requested_by_customer',
                                              expand: ['balance_transaction']});
  assert.equal(refund.status, 'succeeded');
  assert.equal(refund.balance_transaction.amount, -2500);
  assert.equal(refund.balance_transaction.type, 'refund');
  const refunded = await stripe.charges.retrieve(pi.latest_charge, {expand: ['refunds']});
  assert.deepEqual([refunded.amount_refunded, refunded.refunded], [2500, false]);
  assert.equal(refunded.refunds.data[0].id, refund.id);
  const txns = await stripe.balanceTransactions.list({source: pi.latest_charge});
  assert.deepEqual(txns.data.map((t) => t.id), [charge.balance_transaction.id]);
  const read = await stripe.balanceTransactions.retrieve(refund.balance_transaction.id,
                                                         {expand: ['source']});
  assert.equal(read.source.id, refund.id);
  await assert.rejects(stripe.refunds.create({charge: pi.latest_charge, amount: 9000}),
    (error) => error instanceof Stripe.errors.StripeInvalidRequestError);
});

test('a declined card is a StripeCardError with its decline code', async () => {
  await assert.rejects(stripe.paymentIntents.create({amount: 1000, currency: 'usd', confirm: true,
    payment_method: 'pm_card_visa_chargeDeclinedInsufficientFunds'}), (error) => {
    assert.ok(error instanceof Stripe.errors.StripeCardError);
    assert.equal(error.statusCode, 402);
    assert.equal(error.code, 'card_declined');
    assert.equal(error.decline_code, 'insufficient_funds');
    assert.match(error.raw.payment_intent.id, /^pi_/);
    return true;
  });
});

test('3D Secure: requires_action, then succeeded once the customer authenticates', async () => {
  const pi = await stripe.paymentIntents.create({amount: 4000, currency: 'usd', confirm: true,
    payment_method: 'pm_card_threeDSecure2Required'});
  assert.equal(pi.status, 'requires_action');
  await control('POST', `/_sim/payment_intents/${pi.id}/authenticate`, {outcome: 'succeed'});
  assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'succeeded');
});

test('a card saved with a SetupIntent is charged later off session', async () => {
  const customer = await stripe.customers.create({});
  const setup = await stripe.setupIntents.create({customer: customer.id, confirm: true,
    payment_method: 'pm_card_visa', usage: 'off_session'});
  assert.equal(setup.status, 'succeeded');
  const pi = await stripe.paymentIntents.create({amount: 1500, currency: 'usd',
    customer: customer.id, payment_method: setup.payment_method, off_session: true, confirm: true});
  assert.equal(pi.status, 'succeeded');
});

test('a saved card that starts failing declines an off-session top-up', async () => {
  const customer = await payingCustomer();
  const pm = (await stripe.customers.listPaymentMethods(customer.id)).data[0];
  await control('POST', `/_sim/payment_methods/${pm.id}/behave_like`,
                {card: 'pm_card_chargeCustomerFail'});
  await assert.rejects(stripe.paymentIntents.create({amount: 900, currency: 'usd',
    customer: customer.id, payment_method: pm.id, off_session: true, confirm: true}),
  (error) => error instanceof Stripe.errors.StripeCardError);
});
