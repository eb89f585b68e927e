// Page weight and speed as a visitor on a slow phone would see them:
// Chromium (playwright-core, the machine's browser) with the CPU slowed
// four times and DevTools' "Fast 3G" network, each page opened cold (a new
// browser profile, empty cache) and then warm (the same profile again).
// Prints, per page, the size of its HTML and of the hydration data in it,
// bytes transferred, first contentful paint, largest contentful paint and
// the time until the page is interactive (hydrated).
//
// Run by end2end/bench.sh, which builds and serves the release site; reads
// FAIRGROUND_E2E_URL. A benchmark, not a test: it prints figures and checks
// nothing but that each page answered and came alive.
import { chromium } from 'playwright-core';

const BASE = process.env.FAIRGROUND_E2E_URL;
if (!BASE) throw new Error('FAIRGROUND_E2E_URL is not set (run end2end/bench.sh)');
const PASSWORD = 'tangerine orbit cathedral 93';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

// DevTools' "Fast 3G" preset: 1.6 Mbit/s down, 750 kbit/s up, each
// scaled by 0.9, and 150 ms of latency scaled by 3.75.
const FAST_3G = {
  offline: false,
  latency: 150 * 3.75,
  downloadThroughput: ((1.6 * 1000 * 1000) / 8) * 0.9,
  uploadThroughput: ((750 * 1000) / 8) * 0.9,
};
const CPU_SLOWDOWN = 4;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
});

// Records when the app marks the page live, and the largest contentful
// paint, from the first byte of the document on.
const MARKERS = () => {
  window.__lcp = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__lcp = Math.max(window.__lcp, e.startTime);
  }).observe({ type: 'largest-contentful-paint', buffered: true });
  new MutationObserver((_, observer) => {
    if (document.body?.dataset.hydrated === 'true') {
      window.__hydratedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
};

/// A partner with a draft listing, made through the pages at full speed:
/// the listing editor is measured with their cookies.
async function partnerWithDraft() {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const tag = Date.now();
  await page.goto(`${BASE}/sign-up`);
  await page.getByLabel('Email').fill(`bench-${tag}@example.org`);
  await page.getByLabel('Your name').fill('Bea Bench');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${BASE}/account`);
  await page.goto(`${BASE}/orgs`);
  await page.getByLabel('Name', { exact: true }).fill(`Bench Health ${tag}`);
  await page.getByLabel(/Partner/).check();
  await page.getByRole('button', { name: 'Create organisation' }).click();
  await page.waitForURL(`${BASE}/org/members`);
  await page.goto(`${BASE}/my/listings`);
  await page.getByLabel('Name', { exact: true }).fill(`Bench Notes ${tag}`);
  await page.getByLabel('Tagline').fill('Field reports from voice notes.');
  await page.getByLabel('Industry').selectOption({ label: 'Healthcare' });
  await page.getByLabel('Base model').selectOption({ index: 1 });
  await page.getByRole('button', { name: 'Create draft' }).click();
  await page.waitForURL(/\/my\/listings\/\d+$/);
  const editor = new URL(page.url()).pathname;
  const state = await context.storageState();
  await context.close();
  return { editor, state };
}

/// Opens `path` in `page` (throttled) and returns its figures.
async function open(page, cdp, path) {
  let bytes = 0;
  const counted = (e) => { bytes += e.encodedDataLength; };
  cdp.on('Network.loadingFinished', counted);
  const response = await page.goto(BASE + path, { waitUntil: 'load', timeout: 120000 });
  if (response.status() !== 200) throw new Error(`${path} answered ${response.status()}`);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 120000 });
  await page.waitForLoadState('networkidle');
  cdp.off('Network.loadingFinished', counted);
  const t = await page.evaluate(() => ({
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
    lcp: window.__lcp,
    interactive: window.__hydratedAt,
  }));
  return { bytes, ...t };
}

async function throttled(state) {
  const context = await browser.newContext({ storageState: state });
  await context.addInitScript(MARKERS);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', FAST_3G);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  return { context, page, cdp };
}

/// Bytes of hydration data in the page as the server sends it: the
/// scripts that carry serialized resources.
async function hydrationData(path, state) {
  const context = await browser.newContext({ storageState: state });
  const html = await (await context.request.get(BASE + path)).text();
  await context.close();
  const scripts = [...html.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  const data = scripts.filter((t) => t.includes('__RESOLVED_RESOURCES') || t.includes('__SERIALIZED_ERRORS'));
  return { page: html.length, data: data.reduce((n, t) => n + t.length, 0) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { editor, state } = await partnerWithDraft();
const pages = [
  ['home', '/', undefined],
  ['catalogue search', '/catalogue?q=clinical', undefined],
  ['listing', '/listings/fairground-clinical-summary', undefined],
  ['listing editor', editor, state],
];

console.log(`Chromium, CPU slowed ${CPU_SLOWDOWN}x, Fast 3G (${FAST_3G.latency} ms, ${Math.round(FAST_3G.downloadThroughput / 1000)} kB/s down); median of ${ROUNDS} rounds`);
console.log('page               visit  transferred   FCP ms   LCP ms  interactive ms');
for (const [name, path, who] of pages) {
  const runs = { cold: [], warm: [] };
  for (let i = 0; i < ROUNDS; i++) {
    const { context, page, cdp } = await throttled(who);
    runs.cold.push(await open(page, cdp, path));
    runs.warm.push(await open(page, cdp, path));
    await context.close();
  }
  const h = await hydrationData(path, who);
  console.log(`${name.padEnd(18)} HTML ${h.page} B, of which hydration data ${h.data} B`);
  for (const visit of ['cold', 'warm']) {
    const r = runs[visit];
    const m = (k) => median(r.map((x) => x[k]));
    console.log(`${name.padEnd(18)} ${visit.padEnd(5)} ${(Math.round(m('bytes') / 100) / 10).toFixed(1).padStart(8)} kB ${m('fcp').toFixed(0).padStart(8)} ${m('lcp').toFixed(0).padStart(8)} ${m('interactive').toFixed(0).padStart(15)}`);
  }
}
await browser.close();
