// Customers: what a sign-up handler and an account page do.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import Stripe from 'stripe';
import {client, stripe, unique} from '../lib/sim.mjs';

test('a customer is created, read, updated, found by email and deleted', async () => {
  const email = `${unique('ada')}@example.com`;
  const customer = await stripe.customers.create({
    email, name: 'Ada', metadata: {user_id: 'u_1'},
    address: {country: 'US', postal_code: '94110'}});
  assert.match(customer.id, /^cus_/);
  assert.equal(customer.lastResponse.statusCode, 200);
  const read = await stripe.customers.retrieve(customer.id);
  assert.deepEqual(read.metadata, {user_id: 'u_1'});
  const updated = await stripe.customers.update(customer.id, {metadata: {plan: 'pro'}});
  assert.deepEqual(updated.metadata, {user_id: 'u_1', plan: 'pro'});
  const listed = await stripe.customers.list({email});
  assert.deepEqual(listed.data.map((c) => c.id), [customer.id]);
  const found = await stripe.customers.search({query: `email:'${email}'`});
  assert.deepEqual(found.data.map((c) => c.id), [customer.id]);
  const deleted = await stripe.customers.del(customer.id);
  assert.deepEqual([deleted.id, deleted.deleted], [customer.id, true]);
  assert.equal((await stripe.customers.retrieve(customer.id)).deleted, true);
});

test('a customer expands its tax location and its subscriptions', async () => {
  const customer = await stripe.customers.create({address: {country: 'DE'}});
  const read = await stripe.customers.retrieve(customer.id, {expand: ['tax', 'subscriptions']});
  assert.equal(read.tax.automatic_tax, 'supported');
  assert.equal(read.tax.location.country, 'DE');
  assert.equal(read.subscriptions.object, 'list');
});

test('auto-pagination walks every page, forwards and with for await', async () => {
  const email = `${unique('many')}@example.com`;
  const made = [];
  for (let i = 0; i < 23; i += 1) {
    made.push((await stripe.customers.create({email, metadata: {n: String(i)}})).id);
  }
  const all = await stripe.customers.list({email, limit: 5}).autoPagingToArray({limit: 100});
  assert.equal(all.length, 23);
  assert.deepEqual(all.map((c) => c.id), [...made].reverse());
  const seen = [];
  for await (const customer of stripe.customers.list({email, limit: 7})) {
    seen.push(customer.id);
  }
  assert.deepEqual(seen, all.map((c) => c.id));
  const page = await stripe.customers.list({email, limit: 5});
  assert.equal(page.has_more, true);
  const next = await stripe.customers.list({email, limit: 5, starting_after: page.data[4].id});
  assert.deepEqual(next.data.map((c) => c.id), all.slice(5, 10).map((c) => c.id));
  const searched = await stripe.customers.search({query: `email:'${email}'`, limit: 10})
    .autoPagingToArray({limit: 100});
  assert.equal(searched.length, 23);
});

test('the same idempotency key replays the first answer; other parameters are refused', async () => {
  const key = unique('signup');
  const first = await stripe.customers.create({email: 'same@example.com'}, {idempotencyKey: key});
  const again = await stripe.customers.create({email: 'same@example.com'}, {idempotencyKey: key});
  assert.equal(again.id, first.id);
  assert.equal(again.lastResponse.headers['idempotent-replayed'], 'true');
  await assert.rejects(
    stripe.customers.create({email: 'other@example.com'}, {idempotencyKey: key}),
    (error) => error instanceof Stripe.errors.StripeIdempotencyError && error.statusCode === 400);
  await assert.rejects(
    stripe.customers.create({email: 'long@example.com'}, {idempotencyKey: 'k'.repeat(256)}),
    (error) => error instanceof Stripe.errors.StripeInvalidRequestError &&
      error.message.includes('Idempotent Keys must be 1-255 characters long'));
});

test('errors come back as stripe-node error classes with Stripe codes', async () => {
  await assert.rejects(stripe.customers.retrieve('cus_missing'), (error) => {
    assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(error.type, 'StripeInvalidRequestError');
    assert.equal(error.statusCode, 404);
    assert.equal(error.code, 'resource_missing');
    assert.equal(error.param, 'id');
    assert.match(error.requestId, /^req_/);
    return true;
  });
  await assert.rejects(stripe.customers.create({nickname: 'x'}), (error) =>
    error.code === 'parameter_unknown' && error.param === 'nickname');
  await assert.rejects(client({key: 'sk_test_'}).customers.list(), (error) =>
    error instanceof Stripe.errors.StripeAuthenticationError && error.statusCode === 401);
  await assert.rejects(client({key: 'sk_live_real'}).customers.list(), (error) =>
    error instanceof Stripe.errors.StripeAuthenticationError);
  await assert.rejects(stripe.customers.create({metadata: {['k'.repeat(41)]: 'v'}}), (error) =>
    error.message.includes('Metadata keys can have up to 40 characters'));
});
