// The model gateway in the browser, JavaScript on and off: a new client
// subscribes to a demo listing (its deployments answered by the demo's
// stand-in model server), makes a gateway key, reads the Connect panel,
// sends a prompt from the playground and calls with the key; the calls show
// on its usage chart and invoice, and the gateway's overhead on the public
// exposure dashboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, newOrg, person, signUp } from '../support.mjs';

for (const js of [true, false]) {
  test(`a client subscribes, makes a key, uses the playground and sees the calls (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const tag = `${js ? 'js' : 'nojs'}${Date.now()}`;
    const client = await person(js);
    await signUp(client, `gw-${tag}@example.org`, 'Gina Gateway');
    await newOrg(client, `Gateway Clinic ${tag}`, /Client/);
    const { page } = client;

    // Subscribe to the first demo listing of the catalogue.
    await page.goto(`${BASE}/catalogue`);
    await page.locator('li.card h3 a').first().click();
    await page.getByRole('button', { name: 'Subscribe' }).waitFor();
    await client.hydrated();
    const slug = page.url().split('/').pop();
    const plan = page.getByLabel('Plan');
    await plan.selectOption(await plan.locator('option').nth(1).getAttribute('value'));
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.waitForURL(/\/subscriptions\/\d+$/);
    const subscription = page.url();

    // The Connect panel names the base URL and the model.
    await page.getByRole('heading', { name: 'Connect' }).waitFor();
    assert.equal((await page.locator('code.gateway-model').innerText()).trim(), slug);
    assert.match(await page.locator('code.gateway-base-url').innerText(), /\/gateway\/v1$/);

    // A gateway key, shown once.
    await page.goto(BASE + '/org/api-keys');
    await client.hydrated();
    await page.getByLabel('Key name').fill('Clinic app');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.locator('code.new-key').innerText()).trim();
    assert.match(key, /^fgc_/);

    // The playground: one prompt, answered by the deployment, escaped.
    await page.goto(subscription);
    await client.hydrated();
    await page.getByLabel('Prompt').fill(`Hello <b>${tag}</b>`);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('.playground-answer').getByText(`Echo: Hello <b>${tag}</b>`).waitFor();
    assert.match(await page.locator('.playground-answer').innerText(), /Answered by /);

    // A call with the key, as the client's code would make it.
    const res = await fetch(BASE + '/gateway/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: slug, messages: [{ role: 'user', content: 'From the app' }] }),
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).choices[0].message.content, 'Echo: From the app');
    assert.ok(res.headers.get('fairground-deployment').startsWith(`${slug}@`));

    // Both calls on the usage chart and the invoice.
    await page.goto(subscription);
    await client.hydrated();
    await page.getByRole('img', { name: /Calls per day .*: 2 in all/ }).waitFor();
    await page.locator('figure.usage-chart figcaption').getByText(/2 in all, 2 of them through the gateway/).waitFor();
    await page.getByRole('table', { name: 'Monthly invoices' }).getByText('2 through the gateway, 0 reported by the partner').waitFor();

    // The public exposure dashboard shows the gateway's overhead this week.
    const visitor = await person(js);
    await visitor.page.goto(BASE + '/exposure');
    await visitor.hydrated();
    await visitor.page.getByRole('heading', { name: 'Gateway overhead' }).waitFor();
    const week = visitor.page.locator('table.overhead tbody tr').first();
    await week.waitFor();
    assert.doesNotMatch(await week.innerText(), /^\S+\s+—\s+—\s+—\s+—$/);

    for (const who of [client, visitor]) assert.deepEqual(who.problems, []);
    for (const who of [client, visitor]) await who.context.close();
  });
}
