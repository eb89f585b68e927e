// The model gateway in the browser, JavaScript on and off: a new client
// subscribes to a demo listing (its deployments answered by the demo's
// stand-in model server), makes a gateway key, reads the Connect panel,
// sends a prompt from the playground and calls with the key; the calls show
// on its usage chart and invoice, and the gateway's overhead on the public
// exposure dashboard. A partner connects its own model server (a few lines
// of Node that check the signature), sends a test call, and sees a client's
// call in its deployment's health and on its statement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, approve, draftAndSubmit, newOrg, person, referee, signUp } from '../support.mjs';

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

/// A partner's model server in a few lines: answers chat completions with
/// "Echo: " and the last message, only when Fairground's signature checks
/// out with `secret()` (the signing secret shown once to the partner).
async function partnerServer(secret) {
  const { createServer } = await import('node:http');
  const { createHmac, timingSafeEqual } = await import('node:crypto');
  const seen = { signed: 0, refused: 0 };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const ts = req.headers['fairground-timestamp'] ?? '';
      const id = req.headers['fairground-request-id'] ?? '';
      const mac = 'v1=' + createHmac('sha256', secret()).update(`${ts}.${id}.`).update(body).digest('hex');
      const given = Buffer.from(String(req.headers['fairground-signature'] ?? ''));
      if (given.length !== mac.length || !timingSafeEqual(given, Buffer.from(mac)) || Math.abs(Date.now() / 1000 - Number(ts)) > 300) {
        seen.refused += 1;
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'not signed by Fairground', type: 'invalid_request_error' } }));
        return;
      }
      seen.signed += 1;
      const ask = JSON.parse(body.toString());
      const last = ask.messages[ask.messages.length - 1].content;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        id: 'node-1', object: 'chat.completion', created: 0, model: ask.model,
        choices: [{ index: 0, message: { role: 'assistant', content: `Echo: ${last}` }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 },
      }));
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, seen, url: `http://127.0.0.1:${server.address().port}/v1` };
}

for (const js of [true, false]) {
  test(`a partner connects its model server, tests it, and sees a client's call in health and statement (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const tag = `${js ? 'js' : 'nojs'}${Date.now()}`;
    let secret = '';
    const upstream = await partnerServer(() => secret);
    const partner = await person(js);
    await signUp(partner, `up-${tag}@example.org`, 'Uma Upstream');
    await newOrg(partner, `Upstream Works ${tag}`, /Partner/);
    const listing = `Echo Notes ${tag}`;
    await draftAndSubmit(partner, listing, 'Energy');
    const editor = partner.page.url();
    const ref = await referee(js);
    await approve(ref, listing);
    await ref.page.getByRole('button', { name: `Suspend ${listing}` }).waitFor();

    // The endpoint: the secret is shown once and the model server keeps it.
    const { page } = partner;
    await page.goto(editor);
    await partner.hydrated();
    await page.getByLabel('Base URL', { exact: true }).fill(upstream.url);
    await page.getByLabel('Model name upstream').fill('node-echo');
    await page.getByRole('button', { name: 'Save endpoint' }).click();
    secret = (await page.locator('code.new-secret').innerText()).trim();
    assert.match(secret, /^fgs_/);
    await page.getByRole('button', { name: /^Send a test call to / }).click();
    await page.locator('.test-call').getByText(/answered 200 in \d+ ms: “Echo: This is a test call from Fairground\.”/).waitFor();

    // A client subscribes and tries the model from the playground.
    const client = await person(js);
    await signUp(client, `cl-${tag}@example.org`, 'Cleo Client');
    await newOrg(client, `Echo Client ${tag}`, /Client/);
    await client.page.goto(`${BASE}/catalogue?q=${encodeURIComponent(tag)}`);
    await client.page.getByRole('link', { name: listing }).first().click();
    await client.page.getByRole('button', { name: 'Subscribe' }).waitFor();
    await client.hydrated();
    const plan = client.page.getByLabel('Plan');
    await plan.selectOption(await plan.locator('option').nth(1).getAttribute('value'));
    await client.page.getByRole('button', { name: 'Subscribe' }).click();
    await client.page.waitForURL(/\/subscriptions\/\d+$/);
    await client.hydrated();
    await client.page.getByLabel('Prompt').fill('Meter reading 4711');
    await client.page.getByRole('button', { name: 'Send' }).click();
    await client.page.locator('.playground-answer').getByText('Echo: Meter reading 4711').waitFor();
    assert.deepEqual(upstream.seen, { signed: 2, refused: 0 });

    // The partner sees the call in its deployment's health and statement.
    await page.goto(editor);
    await partner.hydrated();
    const health = page.getByRole('table', { name: 'Gateway health' });
    const row = health.getByRole('row').filter({ hasText: '@' }).first();
    await row.waitFor();
    assert.match(await row.innerText(), /@\S+\s+1\s+0\.0 %/);
    await page.goto(BASE + '/revenue');
    await partner.hydrated();
    const statements = page.getByRole('table', { name: /Revenue statements/ });
    await statements.getByRole('row').filter({ hasText: listing }).getByText('1 through the gateway, 0 reported by the partner').waitFor();

    upstream.server.close();
    for (const who of [partner, client, ref]) assert.deepEqual(who.problems, []);
    for (const who of [partner, client, ref]) await who.context.close();
  });
}
