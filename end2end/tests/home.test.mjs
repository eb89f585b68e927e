// The home page in Chromium, with JavaScript on (hydrated) and off (server
// HTML only). Any console error, page error or failed request fails a test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, person } from '../support.mjs';

async function open(path, javaScriptEnabled) {
  const p = await person(javaScriptEnabled);
  p.page.on('response', (r) => {
    if (r.status() >= 400 && r.url() !== BASE + path) p.problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  const response = await p.page.goto(BASE + path);
  return { ...p, response };
}

/// The home page: the top 12 published listings, badged exactly when
/// first-party (in this data, the names starting "Fairground " or "Platform ").
async function checkHome(page) {
  const cards = page.getByRole('list', { name: 'Published listings' }).getByRole('listitem');
  // With JavaScript on, a link to this page is followed in the page: the
  // address changes before the listings arrive. Wait for them, then count.
  await page.getByText(/Showing the top 12 of \d+ published listings\./).waitFor();
  assert.equal(await cards.count(), 12, 'the top 12 listings are shown');
  for (let i = 0; i < 12; i += 1) {
    const card = cards.nth(i);
    const name = await card.getByRole('heading').innerText();
    const badges = await card.getByText('Platform-owned', { exact: true }).count();
    assert.equal(badges, /^(Fairground|Platform) /.test(name) ? 1 : 0, `badge on ${name}`);
  }
}

/// Searches through the catalogue's form and returns the results list.
async function search(page, js, words) {
  if (js) await page.waitForSelector('body[data-hydrated="true"]', { timeout: 20000 });
  await page.getByRole('searchbox', { name: 'Search' }).fill(words);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL((u) => u.searchParams.get('q') === words);
  return page.getByRole('list', { name: 'Search results' }).getByRole('listitem');
}

/// The catalogue: a full first page; then, found through the search form,
/// a first-party listing with its badge and a partner's without.
async function checkCatalogue(page, js) {
  const cards = page.getByRole('list', { name: 'Search results' }).getByRole('listitem');
  await cards.nth(19).waitFor();
  assert.equal(await cards.count(), 20, 'a full first page');

  const tutor = (await search(page, js, 'Course Tutor')).filter({ has: page.getByRole('heading', { name: 'Fairground Course Tutor' }) });
  await tutor.waitFor();
  assert.equal(await tutor.getByText('Platform-owned', { exact: true }).count(), 1,
    'a first-party listing carries the badge');

  const partner = (await search(page, js, 'Radiology Notes')).filter({ has: page.getByRole('heading', { name: 'Meridian Radiology Notes' }) });
  await partner.waitFor();
  assert.equal(await partner.getByText('Platform-owned', { exact: true }).count(), 0,
    "a partner's listing does not");
  for (const fact of ['Healthcare', 'Meridian Health AI']) {
    assert.equal(await partner.getByText(fact, { exact: true }).count(), 1, `card shows ${fact}`);
  }
  await partner.getByText(/Aurora 2 70B \(2026-06\)/).waitFor();
}

async function checkListings(page, js) {
  await checkHome(page);
  await page.getByRole('link', { name: 'Browse the whole catalogue' }).click();
  await page.waitForURL(BASE + '/catalogue');
  if (js) await page.waitForSelector('body[data-hydrated="true"]', { timeout: 20000 });
  await checkCatalogue(page, js);
}

test('home page with JavaScript on: listings and badges, hydrated without errors', async () => {
  const { context, page, problems, response } = await open('/', true);
  assert.equal(response.status(), 200);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 20000 });
  await checkListings(page, true);
  assert.ok(await page.getByRole('navigation', { name: 'Main' }).isVisible());
  assert.deepEqual(problems, []);
  await context.close();
});

test('home page with JavaScript off: the server HTML is complete', async () => {
  const { context, page, problems, response } = await open('/', false);
  assert.equal(response.status(), 200);
  await checkListings(page, false);
  assert.equal(await page.locator('body[data-hydrated]').count(), 0, 'no script ran');
  assert.deepEqual(problems, []);
  await context.close();
});

for (const js of [true, false]) {
  test(`unknown page shows the 404 page (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const { context, page, problems, response } = await open('/no/such/page', js);
    assert.equal(response.status(), 404);
    assert.ok(await page.getByRole('heading', { name: 'Page not found' }).isVisible());
    if (js) await page.waitForSelector('body[data-hydrated="true"]', { timeout: 20000 });
    await page.getByRole('link', { name: 'Back to the catalogue' }).click();
    await page.waitForURL(BASE + '/');
    await checkListings(page, js);
    // The browser reports the 404 document itself as a failed resource load.
    assert.deepEqual(problems.filter((p) => !p.startsWith('console: Failed to load resource: the server responded with a status of 404')), []);
    await context.close();
  });
}
