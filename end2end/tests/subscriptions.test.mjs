// Subscriptions and metering in the browser, JavaScript on and off: a
// partner publishes a listing on two base models; a client subscribes,
// choosing one; the partner makes an API key and reports usage through the
// API; the client sees the usage chart and the invoice, and moves to the
// other base model; the partner sees its subscriber and statement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, approve, draftAndSubmit, newOrg, person, referee, signUp } from '../support.mjs';

/// Chooses the option of the select labelled `label` whose text contains `text`.
async function pick(page, label, text) {
  const select = page.getByLabel(label, { exact: true });
  const value = await select.locator('option', { hasText: text }).first().getAttribute('value');
  await select.selectOption(value);
}

for (const js of [true, false]) {
  test(`a client subscribes on a base model, usage is metered, invoiced and switched (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const tag = `${js ? 'js' : 'nojs'}${Date.now()}`;
    const partner = await person(js);
    await signUp(partner, `meter-${tag}@example.org`, 'Mina Meter');
    await newOrg(partner, `Meter Works ${tag}`, /Partner/);
    const listing = `Meter Reader ${tag}`;
    await draftAndSubmit(partner, listing, 'Energy');
    const editor = partner.page.url();
    const ref = await referee(js);
    await approve(ref, listing);
    await ref.page.getByRole('button', { name: `Suspend ${listing}` }).waitFor();
    // A second base model, once published (deployments are frozen while
    // the referee reviews).
    const { page } = partner;
    await page.goto(editor);
    await partner.hydrated();
    await page.getByLabel('Base model', { exact: true }).selectOption({ label: 'Lumen 3 2026-09 (Lumen AI)' });
    await page.getByLabel('Adapter or revision label').fill('grid-lora');
    await page.getByRole('button', { name: 'Add deployment' }).click();
    await page.getByRole('button', { name: /Remove Lumen 3 .*grid-lora/ }).waitFor();

    // The client subscribes from the listing page, on Lumen.
    const client = await person(js);
    await signUp(client, `plant-${tag}@example.org`, 'Paul Plant');
    await newOrg(client, `Plant ${tag}`, /Client/);
    await client.page.goto(`${BASE}/catalogue?q=${encodeURIComponent(tag)}`);
    await client.page.getByRole('link', { name: listing }).first().click();
    await client.page.getByRole('heading', { name: listing }).waitFor();
    await client.hydrated();
    await client.page.getByLabel('Plan').selectOption({ label: 'Crew — EUR 90.00 a month' });
    await pick(client.page, 'Base model', 'Lumen 3');
    await client.page.getByRole('button', { name: 'Subscribe' }).click();
    await client.page.waitForURL(/\/subscriptions\/\d+$/);
    const subscription = client.page.url().split('/').pop();
    await client.page.getByText(/Lumen 3.*grid-lora/).first().waitFor();

    // The partner makes a key (shown once) and reports usage with it.
    await partner.page.goto(BASE + '/org/api-keys');
    await partner.hydrated();
    await partner.page.getByLabel('Key name').fill('Billing');
    await partner.page.getByRole('button', { name: 'Create key' }).click();
    const key = (await partner.page.locator('code.new-key').innerText()).trim();
    assert.match(key, /^fgk_/);
    const now = Date.now();
    const res = await fetch(BASE + '/api/v1/usage', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records: [
        { idempotency_key: `${tag}-1`, subscription_id: Number(subscription), dimension: 'calls', quantity: 4000, occurred_at: new Date(now).toISOString() },
        { idempotency_key: `${tag}-2`, subscription_id: Number(subscription), dimension: 'calls', quantity: 3000, occurred_at: new Date(now).toISOString() },
      ] }),
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).accepted, 2);

    // The client sees the usage and the invoice: 90.00 + 2 × 1.00 = 92.00.
    await client.page.reload();
    await client.hydrated();
    await client.page.getByRole('img', { name: /Calls per day .*: 7,000 in all/ }).waitFor();
    const invoices = client.page.getByRole('table', { name: 'Monthly invoices' });
    await invoices.getByText('EUR 92.00').waitFor();
    // And moves to the other base model, keeping the subscription.
    await pick(client.page, 'Move to', 'Aurora 2');
    await client.page.getByRole('button', { name: 'Switch base model' }).click();
    await client.page.getByText(/Lumen 3 2026-09 → Aurora 2/).waitFor();
    assert.ok(client.page.url().endsWith(`/subscriptions/${subscription}`));

    // The partner sees its subscriber and statement.
    await partner.page.goto(BASE + '/revenue');
    await partner.hydrated();
    await partner.page.getByRole('cell', { name: `Plant ${tag}` }).first().waitFor();
    const statements = partner.page.getByRole('table', { name: /Revenue statements/ });
    const row = statements.getByRole('row').filter({ hasText: listing });
    await row.getByText('EUR 92.00').waitFor();
    await row.getByText('EUR 18.40').waitFor();   // the platform's 20 %
    await row.getByText('EUR 73.60').waitFor();   // the partner's payout

    // The referee's totals and the public exposure dashboard show it.
    await ref.page.goto(BASE + '/marketplace-totals');
    await ref.hydrated();
    await ref.page.getByRole('rowheader', { name: 'Energy' }).first().waitFor();
    await ref.page.goto(BASE + '/exposure?industry=energy');
    await ref.hydrated();
    await ref.page.getByRole('img', { name: /First-party share of impressions, top three positions, detail views and new subscriptions per week, Energy/ }).waitFor();
    await ref.page.getByRole('table', { name: 'First-party share per industry and week' }).getByRole('rowheader', { name: 'Energy' }).first().waitFor();

    for (const who of [partner, client, ref]) assert.deepEqual(who.problems, []);
    for (const who of [partner, client, ref]) await who.context.close();
  });
}
