// A whole flow with the keyboard alone, JavaScript on and off: the skip
// link, signing up, creating an organisation, creating an API key and
// revoking it through its confirmation, signing out. Every stop reached
// with Tab must show where the focus is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PASSWORD, person } from '../support.mjs';

/// What has the focus: its accessible name as a person would read it, and
/// whether a focus ring (an outline) is drawn around it.
const focused = (page) => page.evaluate(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const label = el.labels && el.labels.length ? el.labels[0].childNodes[0]?.textContent ?? '' : '';
  const name = el.getAttribute('aria-label') || label || el.innerText || '';
  const style = getComputedStyle(el);
  const ring = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  return { name: name.trim(), id: el.id, ring };
});

/// Presses Tab until the focus is on a control named `name` (at most 80
/// presses) and checks that it shows.
async function tabTo(page, name) {
  const passed = [];
  for (let i = 0; i < 80; i++) {
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
