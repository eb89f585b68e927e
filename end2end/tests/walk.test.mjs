// Every page, with JavaScript on, in the site that run.sh serves (the
// release build users run): each one answers, hydrates within its timeout,
// logs no console error, page error or failed request, fits a 375-pixel
// phone screen without scrolling sideways, gives its tables room at 1280
// pixels, keeps its headings in order, and has no serious or critical
// accessibility fault that axe-core finds, with JavaScript on (light and
// dark theme) and off. The
// pages of
// the label walk (home, catalogue, compare, listing, review queue, case,
// subscriptions, a subscription, revenue) are all here, each seen by the
// person who can open it, and so is every other page of the app.
//
// The people and their data are made first with JavaScript off (plain
// forms, no hydration to wait for); each page is then opened in a fresh
// JavaScript-on browser holding the same person's cookies.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import axe from 'axe-core';
import {
  BASE, approve, draftAndSubmit, invite, newOrg, newPlayer, person, referee, signUp,
} from '../support.mjs';

const tag = `walk${Date.now()}`;
const FIRST_PARTY = 'fairground-clinical-summary';
const people = {};
const at = {};

before(async () => {
  const partner = await person(false);
  await signUp(partner, `walk-partner-${tag}@example.org`, 'Wendy Walker');
  await newOrg(partner, `Walk Health ${tag}`, /Partner/);
  const listing = `Walk Notes ${tag}`;
  await draftAndSubmit(partner, listing, 'Healthcare');
  at.editor = new URL(partner.page.url()).pathname;
  const ref = await referee(false);
  await approve(ref, listing);
  await ref.page.getByRole('button', { name: `Suspend ${listing}` }).waitFor();
  await ref.page.goto(`${BASE}/catalogue?q=${encodeURIComponent(tag)}`);
  const href = await ref.page.getByRole('link', { name: listing }).first().getAttribute('href');
  at.partnerListing = href;

  // A client subscribes to the partner's listing.
  const client = await person(false);
  await signUp(client, `walk-client-${tag}@example.org`, 'Carl Client');
  await newOrg(client, `Walk Clinic ${tag}`, /Client/);
  await client.page.goto(BASE + href);
  await client.page.getByLabel('Plan').selectOption({ label: 'Crew — EUR 90.00 a month' });
  await client.page.getByRole('button', { name: 'Subscribe' }).click();
  await client.page.waitForURL(/\/subscriptions\/\d+$/);
  at.subscription = new URL(client.page.url()).pathname;

  // A player drafts a first-party listing beside the partner's: a case.
  const player = await newPlayer(ref, false, `walk-player-${tag}@example.org`);
  await draftAndSubmit(player, `Platform Walk Notes ${tag}`, 'Healthcare');
  await ref.page.goto(BASE + '/cases');
  const caseHref = await ref.page
    .getByRole('link', { name: new RegExp(`First-party listing “Platform Walk Notes ${tag}”`) })
    .getAttribute('href');
  at.case = caseHref;

  // An invitation nobody has accepted yet.
  at.invitation = new URL(await invite(ref, `walk-guest-${tag}@example.org`, 'referee')).pathname;

  Object.assign(people, { partner, client, player, ref });
});

/// Opens `path` as `who` (a person whose cookies to borrow, or nobody) in a
/// JavaScript-on browser and checks it answers `status` and comes alive.
async function walk(who, path, status = 200) {
  const visitor = await person(true, who);
  const { page, problems, context } = visitor;
  page.on('response', (r) => {
    if (r.status() >= 400 && r.url() !== BASE + path) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  try {
    const response = await page.goto(BASE + path);
    assert.equal(response.status(), status, `${path} answers ${status}`);
    // A page that never comes alive fails with what the browser said.
    await visitor.hydrated().catch((e) => {
      assert.fail(`${path} did not hydrate (${e.message.split('\n')[0]}): ${problems.join(' | ') || 'no error logged'}`);
    });
    // A moment for anything the live page does after hydrating.
    await page.waitForLoadState('networkidle');
    const own404 = `console: Failed to load resource: the server responded with a status of ${status}`;
    assert.deepEqual(problems.filter((p) => status === 200 || !p.startsWith(own404)), [], path);
    // On a 375-pixel phone screen nothing scrolls sideways: the header
    // folds into its menu, tables scroll inside their own box.
    await page.setViewportSize({ width: 375, height: 800 });
    const wide = await page.evaluate(() => {
      const doc = document.documentElement;
      const edge = doc.clientWidth + 0.5;
      if (doc.scrollWidth <= doc.clientWidth) return null;
      // Name the outermost elements that stick out (not those inside a box
      // that scrolls sideways by itself), to say what to fix.
      const scrolls = (e) => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX);
      const out = [];
      for (const e of document.querySelectorAll('body *')) {
        if (e.getBoundingClientRect().right <= edge) continue;
        // A positioned element widens the page from wherever it sits.
        const positioned = ['absolute', 'fixed'].includes(getComputedStyle(e).position);
        let a = positioned ? null : e.parentElement;
        while (a && a !== document.body && !scrolls(a)) a = a.parentElement;
        if (a && a !== document.body) continue;
        const parent = e.parentElement;
        if (!positioned && parent && parent !== document.body && parent.getBoundingClientRect().right > edge) continue;
        out.push(`${e.tagName.toLowerCase()}${e.className ? '.' + String(e.className).split(' ').join('.') : ''} (to ${Math.round(e.getBoundingClientRect().right)}px)`);
      }
      return `${doc.scrollWidth}px wide: ${out.slice(0, 5).join(', ')}`;
    });
    assert.equal(wide, null, `${path} at 375 px`);
    // On a laptop screen, tables (statements, invoices) fit the page
    // without a sideways scroll of their own. (A side-by-side comparison,
    // one column per listing, sits in a box made to scroll: not counted.)
    await page.setViewportSize({ width: 1280, height: 800 });
    const cramped = await page.evaluate(() => [...document.querySelectorAll('table')]
      .filter((t) => !t.parentElement.classList.contains('scroll'))
      .filter((t) => t.getBoundingClientRect().right > t.parentElement.getBoundingClientRect().right + 0.5
        || t.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
      .map((t) => `table "${t.caption?.textContent ?? t.className}" ${Math.round(t.getBoundingClientRect().width)}px in ${t.parentElement.clientWidth}px`));
    assert.deepEqual(cramped, [], `${path} at 1280 px`);
    assert.deepEqual(await headingFaults(page), [], `${path}: headings`);
    assert.deepEqual(await axeFaults(page), [], `${path}: accessibility, JavaScript on`);
    // The dark theme (the system's setting) keeps its contrast too.
    await page.emulateMedia({ colorScheme: 'dark' });
    assert.deepEqual(await axeFaults(page), [], `${path}: accessibility, dark theme`);
  } finally {
    await context.close();
  }
  // The same page as the server sends it, as with JavaScript off: the
  // app's script and wasm are refused, so nothing hydrates. (axe-core
  // itself needs the page's timers, which a JavaScript-off context stops.)
  const plain = await person(true, who);
  try {
    await plain.page.route(/\/pkg\/fairground\.[0-9a-f]{16}\.(js|wasm)$/, (r) => r.abort());
    await plain.page.goto(BASE + path);
    assert.deepEqual(await headingFaults(plain.page), [], `${path}: headings, JavaScript off`);
    assert.deepEqual(await axeFaults(plain.page), [], `${path}: accessibility, JavaScript off`);
  } finally {
    await plain.context.close();
  }
}

/// One h1, first; no heading skips a level on the way down.
function headingFaults(page) {
  return page.evaluate(() => {
    const levels = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
      .map((h) => [Number(h.tagName[1]), h.textContent.trim().slice(0, 40)]);
    const faults = [];
    if (levels.filter(([l]) => l === 1).length !== 1) faults.push(`${levels.filter(([l]) => l === 1).length} h1`);
    if (levels.length && levels[0][0] !== 1) faults.push(`first heading is h${levels[0][0]} "${levels[0][1]}"`);
    levels.forEach(([l, text], i) => {
      if (i > 0 && l > levels[i - 1][0] + 1) faults.push(`h${levels[i - 1][0]} then h${l} "${text}"`);
    });
    return faults;
  });
}

/// axe-core's serious and critical findings on the page as it is now
/// (injected through the DevTools protocol, which the page's Content
/// Security Policy does not govern).
async function axeFaults(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axe.source);
  const found = await page.evaluate(async () => (await window.axe.run(document, {
    resultTypes: ['violations'],
  })).violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`));
  return found;
}

const anonymous = () => [
  '/', `/catalogue?q=${encodeURIComponent('clinical summary')}`, '/catalogue',
  `/compare?l=${FIRST_PARTY}&l=${at.partnerListing.split('/').pop()}`,
  `/listings/${FIRST_PARTY}`, at.partnerListing,
  '/how-ranking-works', '/base-models', '/policy', '/exposure', '/evaluations', '/api',
  '/neutrality-report', `/neutrality-report/${new Date().toISOString().slice(0, 7)}`,
  '/sign-in', '/sign-in/code', '/sign-up', at.invitation, '/verify-email/a-link-token',
];

test('every public page comes alive in the browser', async () => {
  for (const path of anonymous()) await walk(null, path);
  await walk(null, '/no/such/page', 404);
});

test("every referee's page comes alive in the browser", async () => {
  for (const path of ['/review', '/cases', at.case, '/audit', '/marketplace-totals',
    '/exposure', '/notifications', '/org/members', '/orgs', '/account', '/policy', '/']) {
    await walk(people.ref, path);
  }
});

test("every partner's page comes alive in the browser", async () => {
  for (const path of ['/my/listings', at.editor, '/org/api-keys', '/org/data-access', '/revenue',
    '/cases', '/notifications', '/org/members', at.partnerListing, '/account']) {
    await walk(people.partner, path);
  }
});

test("every client's page comes alive in the browser", async () => {
  for (const path of ['/subscriptions', at.subscription, '/catalogue', at.partnerListing, '/org/members', '/org/api-keys']) {
    await walk(people.client, path);
  }
});

test("every player's page comes alive in the browser", async () => {
  for (const path of ['/revenue', '/my/listings', '/org/api-keys', '/policy']) {
    await walk(people.player, path);
  }
});
