// Prices with lookup keys: how a pricing page finds its prices without hard-coded ids.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {product, stripe, unique} from '../lib/sim.mjs';

test('prices are found by lookup key, with their product expanded', async () => {
  const prod = await product('Team');
  const monthly = unique('team_monthly');
  const yearly = unique('team_yearly');
  await stripe.prices.create({product: prod.id, currency: 'usd', unit_amount: 1500,
    recurring: {interval: 'month'}, lookup_key: monthly});
  await stripe.prices.create({product: prod.id, currency: 'usd', unit_amount: 15000,
    recurring: {interval: 'year'}, lookup_key: yearly});
  const prices = await stripe.prices.list({lookup_keys: [monthly, yearly], active: true,
    expand: ['data.product']});
  assert.deepEqual(prices.data.map((p) => p.lookup_key).sort(), [monthly, yearly].sort());
  assert.equal(prices.data[0].product.name, prod.name);
});

test('a lookup key moves to a new price with transfer_lookup_key', async () => {
  const prod = await product();
  const key = unique('pro_monthly');
  const old = await stripe.prices.create({product: prod.id, currency: 'usd', unit_amount: 900,
    recurring: {interval: 'month'}, lookup_key: key});
  await assert.rejects(stripe.prices.create({product: prod.id, currency: 'usd', unit_amount: 1200,
    recurring: {interval: 'month'}, lookup_key: key}));
  const fresh = await stripe.prices.create({product: prod.id, currency: 'usd', unit_amount: 1200,
    recurring: {interval: 'month'}, lookup_key: key, transfer_lookup_key: true});
  const found = await stripe.prices.list({lookup_keys: [key]});
  assert.deepEqual(found.data.map((p) => p.id), [fresh.id]);
  assert.equal((await stripe.prices.retrieve(old.id)).lookup_key, null);
});

test('a price in several currencies shows them with expand[]=currency_options', async () => {
  const prod = await product();
  const price = await stripe.prices.create({product: prod.id, currency: 'usd', unit_amount: 1000,
    currency_options: {eur: {unit_amount: 900}, gbp: {unit_amount: 800}}});
  assert.equal(price.currency_options, undefined);
  const shown = await stripe.prices.retrieve(price.id, {expand: ['currency_options']});
  assert.equal(shown.currency_options.usd.unit_amount, 1000);
  assert.equal(shown.currency_options.eur.unit_amount, 900);
  assert.equal(shown.currency_options.gbp.unit_amount, 800);
});

test('a product keeps its default price; archiving a price hides it from active lists', async () => {
  const prod = await stripe.products.create({name: unique('Boxed'),
    default_price_data: {currency: 'usd', unit_amount: 4900}});
  const withPrice = await stripe.products.retrieve(prod.id, {expand: ['default_price']});
  assert.equal(withPrice.default_price.unit_amount, 4900);
  await stripe.prices.update(withPrice.default_price.id, {active: false});
  const active = await stripe.prices.list({product: prod.id, active: true});
  assert.equal(active.data.length, 0);
});
