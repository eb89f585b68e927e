// Shared by the browser tests: the machine's Chromium, and a "person" (a
// browser context with JavaScript on or off) that records console errors
// and page errors.
import { after } from 'node:test';
import { confirmationLink } from './outbox.mjs';
import { chromium } from 'playwright-core';
import { freshCode } from './totp.mjs';

export const BASE = process.env.FAIRGROUND_E2E_URL;
if (!BASE) throw new Error('FAIRGROUND_E2E_URL is not set (run end2end/run.sh)');
export const PASSWORD = 'tangerine orbit cathedral 93';

// Started by the first person who needs it, so that a test file's own
// `before` hook can already make people.
let browser;
function theBrowser() {
  browser ??= chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
  return browser;
}
after(async () => { if (browser) await (await browser).close(); });

/// A fresh browser context. `hydrated()` waits for the app to be live when
/// JavaScript is on (and returns at once when it is off). `as`, another
/// person, lends its cookies: the same account in a second browser.
export async function person(js, as) {
  const storageState = as ? await as.context.storageState() : undefined;
  const context = await (await theBrowser()).newContext({ javaScriptEnabled: js, storageState });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message} (on ${page.url()})`));
  if (process.env.FAIRGROUND_E2E_TRACE) page.on('pageerror', (e) => console.log(`page error on ${page.url()}:`, e.stack));
  page.on('requestfailed', (r) => {
    // With scripting off, Chromium refuses the preloads of the hydration
    // bundle; that is the point of the JS-off run, not a problem.
    if (!js && /\/pkg\/fairground\.[0-9a-f]{16}\.(js|wasm)$/.test(r.url())) return;
    // A fetch still running when the test navigates away is cancelled by
    // the browser (net::ERR_ABORTED): the test's doing, not the app's.
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  // Also waits for a form sent in place to have come back (its page
  // content replaced), as a click on a plain form waits for the next page.
  const hydrated = async () => {
    if (js) await page.waitForSelector('body[data-hydrated="true"]:not(:has(form[aria-busy="true"]))', { timeout: 20000 });
  };
  return { context, page, problems, hydrated };
}

/// Signs a person up through the sign-up page; they land on /account.
export async function signUp({ page, hydrated }, email, name) {
  await page.goto(BASE + '/sign-up');
  await hydrated();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(BASE + '/account');
}

/// Signs in through the sign-in page as an existing account; with
/// two-step sign-in on, through the code page too.
export async function signIn(js, email, secret) {
  const who = await person(js);
  await who.page.goto(BASE + '/sign-in');
  await who.hydrated();
  await who.page.getByLabel('Email').fill(email);
  await who.page.getByLabel('Password').fill(PASSWORD);
  await who.page.getByRole('button', { name: 'Sign in' }).click();
  if (secret) {
    await who.page.waitForURL(BASE + '/sign-in/code');
    await who.hydrated();
    await who.page.getByLabel('Code').fill(await freshCode(secret));
    await who.page.getByRole('button', { name: 'Continue' }).click();
  }
  await who.page.waitForURL((u) => !u.pathname.startsWith('/sign-in'));
  return who;
}

/// The platform's referee (joined by run.sh before the tests, with
/// two-step sign-in on).
export const REFEREE_EMAIL = process.env.FAIRGROUND_E2E_REFEREE_EMAIL;
export const REFEREE_SECRET = process.env.FAIRGROUND_E2E_REFEREE_TOTP;
export const referee = (js) => signIn(js, REFEREE_EMAIL, REFEREE_SECRET);

/// Turns on two-step sign-in from the account page, as a person would
/// with an authenticator app: reads the key, enters a code, puts the
/// recovery codes away. Returns the key, the codes, and whether the page
/// stayed the same page throughout (forms sent in place, JavaScript on).
export async function turnOnTwoStep({ page, hydrated }) {
  await page.goto(BASE + '/account');
  await hydrated();
  // Left on the page: whether the three steps below reloaded it.
  await page.evaluate(() => { window.samePage = true; });
  await page.getByRole('button', { name: 'Set up two-step sign-in' }).click();
  await page.getByRole('img', { name: 'QR code of the key' }).waitFor();
  const secret = (await page.locator('code.totp-key').innerText()).trim();
  await hydrated();
  await page.getByLabel('Code from your app').fill(await freshCode(secret));
  await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  const codes = page.getByRole('list', { name: 'Recovery codes' }).locator('code');
  await codes.first().waitFor();
  const recovery = await codes.allInnerTexts();
  await hydrated();
  await page.getByRole('button', { name: 'I have saved these codes' }).click();
  await page.getByText('of 10 recovery codes left').waitFor();
  const inPlace = await page.evaluate(() => window.samePage === true);
  return { secret, recovery, inPlace };
}

/// Drafts a ready-to-submit listing through the pages and submits it.
export async function draftAndSubmit(who, name, industry) {
  const { page, hydrated } = who;
  await page.goto(BASE + '/my/listings');
  await hydrated();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Tagline').fill('Field reports from voice notes.');
  await page.getByLabel('Industry').selectOption({ label: industry });
  await page.getByLabel('Base model').selectOption({ label: 'Aurora 2 70B (2026-06) (Aurora Labs)' });
  await page.getByRole('button', { name: 'Create draft' }).click();
  await page.waitForURL(/\/my\/listings\/\d+$/);
  await hydrated();
  await page.getByLabel('Description (Markdown)').fill('Turns voice notes into work orders.');
  await page.getByLabel('Capability tags (comma-separated)').fill('voice, work orders');
  await page.getByRole('button', { name: 'Save details' }).click();
  await page.getByLabel('Capability tags (comma-separated)').and(page.locator('[value="voice, work orders"]')).waitFor();
  await hydrated();
  await page.getByLabel('Plan name').fill('Crew');
  await page.getByLabel('Monthly fee').fill('90');
  await page.getByLabel('Included calls a month').fill('5000');
  await page.getByLabel('Price per 1,000 calls over that').fill('1');
  await page.getByRole('button', { name: 'Add plan' }).click();
  await page.getByRole('list', { name: 'Plans' }).getByText('EUR 90.00 a month').waitFor();
  await hydrated();
  await page.getByRole('button', { name: 'Submit for review' }).click();
  await page.getByText('Status: Submitted for review.').waitFor();
}

export async function approve(ref, name) {
  await ref.page.goto(BASE + '/review');
  await ref.hydrated();
  await ref.page.getByRole('button', { name: `Approve ${name}` }).click();
  // Refused or done: the page has come back either way.
  await ref.hydrated();
}

/// Creates an organisation of the given kind (a label pattern: /Partner/,
/// /Client/) through the organisations page; the person lands on its members.
export async function newOrg(who, name, kind) {
  await who.page.goto(BASE + '/orgs');
  await who.hydrated();
  await who.page.getByLabel('Name', { exact: true }).fill(name);
  await who.page.getByLabel(kind).check();
  await who.page.getByRole('button', { name: 'Create organisation' }).click();
  await who.page.waitForURL(BASE + '/org/members');
}

/// The referee invites `email` to the platform as `role` and returns the
/// invitation link shown once on the members page.
export async function invite(ref, email, role) {
  await ref.page.goto(BASE + '/org/members');
  await ref.hydrated();
  await ref.page.getByLabel('Their email').fill(email);
  await ref.page.getByLabel('Staff role').selectOption(role);
  await ref.page.getByRole('button', { name: 'Create invitation' }).click();
  const notice = ref.page.getByRole('status').filter({ hasText: 'Invitation created' });
  await notice.waitFor();
  return (await notice.locator('code').innerText()).trim();
}

/// The person opens the confirmation link sent to `email` and confirms.
export async function confirmEmail(who, email) {
  await who.page.goto(BASE + new URL(confirmationLink(email)).pathname);
  await who.hydrated();
  await who.page.getByRole('button', { name: 'Confirm my address' }).click();
  await who.page.getByText('Your email address is confirmed.').waitFor();
}

/// A new person who signs up, confirms their address and joins the
/// platform's staff as `role` ('player' or 'referee') through the
/// referee's invitation.
export async function newStaff(ref, js, email, role, name) {
  const link = await invite(ref, email, role);
  const staff = await person(js);
  await signUp(staff, email, name);
  await confirmEmail(staff, email);
  await staff.page.goto(link);
  await staff.hydrated();
  await staff.page.getByRole('button', { name: 'Accept invitation' }).click();
  // Staff act only after two-step sign-in: joining leads to turning it on.
  await staff.page.waitForURL((u) => u.pathname === '/account' && u.searchParams.get('updated') === 'staff');
  await staff.page.getByText("You joined the platform's staff: turn on two-step sign-in below.").waitFor();
  await turnOnTwoStep(staff);
  return staff;
}

export const newPlayer = (ref, js, email) => newStaff(ref, js, email, 'player', 'Pat Player');
