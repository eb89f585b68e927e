// Whole flows with the keyboard alone, JavaScript on and off. A new
// person: the skip link, signing up, creating an organisation, creating an
// API key and revoking it through its confirmation, signing out. A client
// on a phone-width screen: the folded header menu, a search, two listings
// ticked and compared, a subscription taken and cancelled through its
// confirmation. A partner: a listing drafted, described, given a plan and
// submitted for review. A referee: signing in with the two-step code,
// approving one listing and rejecting another with a reason. A client of
// the gateway: a gateway key, a prompt sent from the playground, fallback
// and a monthly cap set. Every stop reached with Tab must show where the
// focus is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PASSWORD, REFEREE_EMAIL, REFEREE_SECRET, draftAndSubmit, newOrg, person, signUp } from '../support.mjs';
import { freshCode } from '../totp.mjs';

/// What has the focus: its accessible name as a person would read it, and
/// whether a focus ring (an outline) is drawn around it, or, for a control
/// hidden behind its label (the menu switch), around that label.
const focused = (page) => page.evaluate(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const label = el.labels && el.labels.length ? el.labels[0] : null;
  // The label's own words, not a hint or an error inside it.
  const said = label
    ? [...label.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('')
    : '';
  const name = el.getAttribute('aria-label') || said.trim() || el.innerText || '';
  const drawn = (x) => {
    const style = getComputedStyle(x);
    return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  };
  const hidden = getComputedStyle(el).opacity === '0';
  const ring = hidden ? !!label && drawn(label) : drawn(el);
  return { name: name.trim(), id: el.id, tag: el.tagName.toLowerCase(), ring };
});

/// Presses Tab until the focus is on a control named `name` (at most
/// `limit` presses) and checks that it shows.
async function tabTo(page, name, limit = 150) {
  const passed = [];
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const here = await focused(page);
    if (here && name.test(here.name)) {
      assert.ok(here.ring, `the focus on “${here.name}” is visible`);
      return here;
    }
    passed.push(here?.name);
  }
  throw new Error(`Tab never reached ${name}; passed ${passed.join(' | ')}`);
}

for (const js of [true, false]) {
  test(`a flow with the keyboard alone (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const { context, page, problems, hydrated } = await person(js);
    const tag = `${js ? 'js' : 'nojs'}${Date.now()}`;

    await page.goto(BASE + '/sign-up');
    await hydrated();
    // The first stop is the skip link; it leads to the main content.
    await page.keyboard.press('Tab');
    assert.equal((await focused(page))?.name, 'Skip to main content');
    assert.ok((await focused(page)).ring);
    await page.keyboard.press('Enter');
    assert.equal((await focused(page))?.id, 'main');

    await tabTo(page, /^Email$/);
    await page.keyboard.type(`keys-${tag}@example.org`);
    await tabTo(page, /^Your name$/);
    await page.keyboard.type('Kay Board');
    await tabTo(page, /^Password$/);
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(BASE + '/account');

    await page.goto(BASE + '/orgs');
    await hydrated();
    await tabTo(page, /^Name$/);
    await page.keyboard.type(`Keyboard Works ${tag}`);
    await tabTo(page, /^Create organisation$/);
    await page.keyboard.press('Enter');
    await page.waitForURL(BASE + '/org/members');

    await page.goto(BASE + '/org/api-keys');
    await hydrated();
    await tabTo(page, /^Key name/);
    await page.keyboard.type('ci-runner');
    await page.keyboard.press('Enter');
    await page.locator('code.new-key').waitFor();
    await hydrated();

    // A permanent action: the first control only opens the confirmation.
    await tabTo(page, /^Revoke ci-runner$/);
    await page.keyboard.press('Enter');
    await tabTo(page, /^Yes, revoke ci-runner$/);
    await page.keyboard.press('Enter');
    await page.getByRole('table', { name: 'API keys' }).getByText(/^Revoked /).waitFor();
    await hydrated();

    await page.goto(BASE + '/account');
    await hydrated();
    await tabTo(page, /^Sign out$/);
    await page.keyboard.press('Enter');
    await page.waitForURL(BASE + '/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in' }).waitFor();

    assert.deepEqual(problems, []);
    await context.close();
  });
}

for (const js of [true, false]) {
  test(`a client compares, subscribes and cancels with the keyboard alone at 375 px (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const who = await person(js);
    const { context, page, problems, hydrated } = who;
    const tag = `${js ? 'js' : 'nojs'}${Date.now()}`;
    await signUp(who, `keyed-${tag}@example.org`, 'Cleo Keys');
    await newOrg(who, `Keyed Clinic ${tag}`, /Client/);
    await page.setViewportSize({ width: 375, height: 812 });

    // The header is folded behind its menu switch; Space opens it.
    await page.goto(BASE + '/');
    await hydrated();
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.getByRole('link', { name: 'Catalogue' }).isVisible(), false);
    await tabTo(page, /^Menu$/);
    await page.keyboard.press('Space');
    await nav.getByRole('link', { name: 'Catalogue' }).waitFor();
    await tabTo(page, /^Catalogue$/);
    await page.keyboard.press('Enter');
    await page.waitForURL(BASE + '/catalogue');
    await hydrated();

    await tabTo(page, /^Search$/);
    assert.equal((await focused(page)).tag, 'input');
    await page.keyboard.type('clinical');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/catalogue\?q=clinical/);
    await hydrated();

    // Two listings ticked with Space (the results' first two boxes), then
    // compared: Tab goes on past the end of the page and round to the
    // button above the results.
    const ticked = [];
    for (let i = 0; i < 2; i++) {
      ticked.push((await tabTo(page, /^Compare (?!selected)/)).name.replace(/^Compare /, ''));
      await page.keyboard.press('Space');
    }
    assert.ok(ticked.includes('Fairground Clinical Summary'), `ticked ${ticked.join(', ')}`);
    if (js) await page.getByRole('status').filter({ hasText: /^2 ticked$/ }).waitFor();
    await tabTo(page, /^Compare selected/);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/compare\?/);
    const table = page.getByRole('table', { name: 'Listings side by side' });
    assert.equal(await table.getByRole('columnheader').count(), 2, 'the two listings ticked');
    await hydrated();

    // From the comparison to the listing, and a subscription with a plan
    // chosen from the keyboard.
    await tabTo(page, /^Fairground Clinical Summary$/);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/listings\/[^/]+$/);
    await page.getByRole('heading', { name: 'Subscribe' }).waitFor();
    await hydrated();
    await tabTo(page, /^Plan$/);
    await page.keyboard.press('ArrowDown');
    assert.notEqual(await page.getByLabel('Plan').inputValue(), '', 'a plan is chosen');
    await tabTo(page, /^Subscribe$/);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/subscriptions\/\d+$/);
    await page.getByText('Active', { exact: true }).waitFor();
    await hydrated();

    // A permanent action: the first control only opens the confirmation.
    await tabTo(page, /^Cancel the subscription$/);
    await page.keyboard.press('Enter');
    await tabTo(page, /^Yes, cancel the subscription$/);
    await page.keyboard.press('Enter');
    await page.getByText(/^Cancelled on /).waitFor();
    await hydrated();

    // Nothing on these pages ran off the side of the phone screen.
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 375);
    assert.deepEqual(problems, []);
    await context.close();
  });
}

for (const js of [true, false]) {
  test(`a partner drafts a listing and submits it for review with the keyboard alone (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const who = await person(js);
    const { context, page, problems, hydrated } = who;
    const tag = `${js ? 'js' : 'nojs'}${Date.now()}`;
    await signUp(who, `drafter-${tag}@example.org`, 'Dora Keys');
    await newOrg(who, `Keyed Vendor ${tag}`, /Partner/);

    await page.goto(BASE + '/my/listings');
    await hydrated();
    await tabTo(page, /^Name$/);
    await page.keyboard.type(`Keyed Notes ${tag}`);
    await tabTo(page, /^Tagline/);
    await page.keyboard.type('Notes written from the keyboard.');
    // A closed list takes the arrow keys: the first choice after the prompt.
    for (const [name, label] of [[/^Industry$/, 'Industry'], [/^Base model$/, 'Base model']]) {
      await tabTo(page, name);
      await page.keyboard.press('ArrowDown');
      assert.notEqual(await page.getByLabel(label).inputValue(), '', `${label} chosen`);
    }
    await tabTo(page, /^Create draft$/);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/my\/listings\/\d+$/);
    await hydrated();

    await tabTo(page, /^Description/);
    await page.keyboard.type('Turns spoken notes into records.');
    await tabTo(page, /^Capability tags/);
    await page.keyboard.type('keyboard, notes');
    await tabTo(page, /^Save details$/);
    await page.keyboard.press('Enter');
    await page.getByLabel('Capability tags (comma-separated)').and(page.locator('[value="keyboard, notes"]')).waitFor();
    await hydrated();

    for (const [name, text] of [
      [/^Plan name/, 'Desk'],
      [/^Monthly fee/, '40'],
      [/^Included calls a month/, '2000'],
      [/^Price per 1,000 calls over that/, '2'],
    ]) {
      await tabTo(page, name);
      await page.keyboard.type(text);
    }
    await tabTo(page, /^Add plan$/);
    await page.keyboard.press('Enter');
    await page.getByRole('list', { name: 'Plans' }).getByText('EUR 40.00 a month').waitFor();
    await hydrated();

    await tabTo(page, /^Submit for review$/);
    await page.keyboard.press('Enter');
    await page.getByText('Status: Submitted for review.').waitFor();

    assert.deepEqual(problems, []);
    await context.close();
  });
}

for (const js of [true, false]) {
  test(`a referee signs in with a code, approves one listing and rejects another with the keyboard alone (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const tag = `${js ? 'js' : 'nojs'}${Date.now()}`;
    const partner = await person(js);
    await signUp(partner, `queued-${tag}@example.org`, 'Quinn Queue');
    await newOrg(partner, `Queued Vendor ${tag}`, /Partner/);
    const good = `Keyed Approval ${tag}`;
    const poor = `Keyed Rejection ${tag}`;
    await draftAndSubmit(partner, good, 'Telecom');
    await draftAndSubmit(partner, poor, 'Telecom');

    const { context, page, problems, hydrated } = await person(js);
    await page.goto(BASE + '/sign-in');
    await hydrated();
    await tabTo(page, /^Email$/);
    await page.keyboard.type(REFEREE_EMAIL);
    await tabTo(page, /^Password$/);
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(BASE + '/sign-in/code');
    await hydrated();
    await tabTo(page, /^Code$/);
    await page.keyboard.type(await freshCode(REFEREE_SECRET));
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => !u.pathname.startsWith('/sign-in'));

    await page.goto(BASE + '/review');
    await hydrated();
    // The queue may hold other people's listings before these: more stops.
    await tabTo(page, new RegExp(`^Approve ${good}$`), 400);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: `Suspend ${good}` }).waitFor();
    await hydrated();

    // Rejecting needs a reason, the field right after the approve button.
    await tabTo(page, new RegExp(`^Approve ${poor}$`), 400);
    await page.keyboard.press('Tab');
    const reason = await focused(page);
    assert.equal(reason?.name, 'Reason');
    assert.ok(reason.ring, 'the focus on the reason shows');
    await page.keyboard.type('Say which telecom work it covers.');
    await tabTo(page, new RegExp(`^Reject ${poor}$`), 3);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: `Approve ${poor}` }).waitFor({ state: 'detached' });
    await hydrated();

    // The partner sees both decisions.
    await partner.page.goto(BASE + '/my/listings');
    await partner.hydrated();
    const row = (name) => partner.page.getByRole('row').filter({ has: partner.page.getByRole('link', { name }) });
    assert.match(await row(good).innerText(), /Published/);
    assert.match(await row(poor).innerText(), /Rejected\s+Say which telecom work it covers\./);

    for (const who of [partner.problems, problems]) assert.deepEqual(who, []);
    await context.close();
    await partner.context.close();
  });
}

for (const js of [true, false]) {
  test(`a client makes a gateway key, sends a prompt and sets its call limits with the keyboard alone (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const tag = `${js ? 'js' : 'nojs'}${Date.now()}`;
    const who = await person(js);
    const { context, page, problems, hydrated } = who;
    await signUp(who, `gwkeys-${tag}@example.org`, 'Kit Gateway');
    await newOrg(who, `Keyed Clinic ${tag}`, /Client/);
    // Subscribing by keyboard is the phone flow above; here by mouse.
    await page.goto(`${BASE}/catalogue`);
    await page.locator('li.card h3 a').first().click();
    await page.getByRole('button', { name: 'Subscribe' }).waitFor();
    await hydrated();
    const plan = page.getByLabel('Plan');
    await plan.selectOption(await plan.locator('option').nth(1).getAttribute('value'));
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.waitForURL(/\/subscriptions\/\d+$/);
    const subscription = page.url();

    await page.goto(BASE + '/org/api-keys');
    await hydrated();
    await tabTo(page, /^Key name/);
    await page.keyboard.type('Ward app');
    await page.keyboard.press('Enter');
    assert.match((await page.locator('code.new-key').innerText()).trim(), /^fgc_/);

    await page.goto(subscription);
    await hydrated();
    await tabTo(page, /^Prompt$/);
    await page.keyboard.type(`Keyed <i>${tag}</i>`);
    await tabTo(page, /^Send$/);
    await page.keyboard.press('Enter');
    await page.locator('.playground-answer').getByText(`Echo: Keyed <i>${tag}</i>`).waitFor();
    await hydrated();

    await tabTo(page, /^Fall back to the listing/);
    await page.keyboard.press('Space');
    await tabTo(page, /^Monthly cap of calls/);
    await page.keyboard.type('2500');
    await tabTo(page, /^Save call settings$/);
    await page.keyboard.press('Enter');
    await page.getByText('2,500 calls').waitFor();
    await page.getByText(/^On: when the chosen deployment is paused or fails/).waitFor();

    assert.deepEqual(problems, []);
    await context.close();
  });
}
