// Listings through the pages, JavaScript on and off: a partner drafts an
// industry model with two deployments and a plan and submits it; a referee
// approves it; anyone finds it in the catalogue with the right badge state
// and compares it with a first-party listing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, person, referee, signUp } from '../support.mjs';

for (const js of [true, false]) {
  test(`draft, deploy twice, price, submit, approve, find, compare (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const tag = `${js ? 'js' : 'nojs'}${Date.now()}`;
    const partner = await person(js);
    const { page } = partner;
    await signUp(partner, `vendor-${tag}@example.org`, 'Vera Vendor');
    await page.goto(BASE + '/orgs');
    await partner.hydrated();
    await page.getByLabel('Name', { exact: true }).fill(`Vendor ${tag}`);
    await page.getByLabel(/Partner/).check();
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.waitForURL(BASE + '/org/members');

    // A draft on one base model.
    const name = `Clinical Scribe ${tag}`;
    await page.goto(BASE + '/my/listings');
    await partner.hydrated();
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Tagline').fill('Turns consultations into structured notes.');
    await page.getByLabel('Industry').selectOption({ label: 'Healthcare' });
    await page.getByLabel('Base model').selectOption({ label: 'Aurora 2 70B (2026-06) (Aurora Labs)' });
    await page.getByRole('button', { name: 'Create draft' }).click();
    await page.waitForURL(/\/my\/listings\/\d+$/);
    await page.getByRole('heading', { name: `Edit “${name}”` }).waitFor();

    await partner.hydrated();
    await page.getByLabel('Description (Markdown)').fill('## Notes\n\nDrafts **SOAP** notes. <script>alert(1)</script>');
    await page.getByLabel('Capability tags (comma-separated)').fill('scribe, notes');
    await page.getByRole('button', { name: 'Save details' }).click();
    await page.getByLabel('Capability tags (comma-separated)').and(page.locator('[value="notes, scribe"]')).waitFor();

    // A second deployment, on another base model.
    await partner.hydrated();
    await page.getByLabel('Base model').selectOption({ label: 'Lumen 3 2026-09 (Lumen AI)' });
    await page.getByLabel('Adapter or revision label').fill('lora-7');
    await page.getByLabel('Self-reported evaluation score').fill('91');
    await page.getByRole('button', { name: 'Add deployment' }).click();
    const deployments = page.getByRole('list', { name: 'Deployments' });
    await deployments.getByText('Lumen 3 2026-09 (Lumen AI)', { exact: true }).waitFor();
    assert.equal(await deployments.getByRole('listitem').count(), 2);

    // A bad price is refused next to its field; a good one is added.
    await partner.hydrated();
    await page.getByLabel('Plan name').fill('Clinic');
    await page.getByLabel('Monthly fee').fill('4.999');
    await page.getByLabel('Included calls a month').fill('10000');
    await page.getByLabel('Price per 1,000 calls over that').fill('2.50');
    await page.getByRole('button', { name: 'Add plan' }).click();
    await page.locator('#monthly_fee-error').getByText('at most two decimals').waitFor();
    await partner.hydrated();
    await page.getByLabel('Plan name').fill('Clinic');
    await page.getByLabel('Monthly fee').fill('490');
    await page.getByLabel('Included calls a month').fill('10000');
    await page.getByLabel('Price per 1,000 calls over that').fill('2.50');
    await page.getByRole('button', { name: 'Add plan' }).click();
    await page.getByRole('list', { name: 'Plans' }).getByText('EUR 490.00 a month').waitFor();

    await partner.hydrated();
    await page.getByRole('button', { name: 'Submit for review' }).click();
    await page.getByText('Status: Submitted for review.').waitFor();

    // Not public until approved.
    const visitor = await person(js);
    await visitor.page.goto(`${BASE}/catalogue?q=${tag}`);
    await visitor.page.getByText('No published listing matches.').waitFor();

    const ref = await referee(js);
    await ref.page.goto(BASE + '/review');
    await ref.hydrated();
    await ref.page.getByRole('button', { name: `Approve ${name}` }).click();
    await ref.page.getByRole('link', { name }).waitFor();
    await ref.page.getByRole('button', { name: `Suspend ${name}` }).waitFor();

    // In the catalogue, unbadged; a first-party listing is badged.
    // Loaded again, the page is a copy of the one kept (its scripts named
    // by hash, not by a nonce), and must hydrate as the first rendering does
    // (a script the policy refused would show in the console errors checked
    // at the end). A third load covers a minute turning in between.
    let csp = '';
    for (let i = 0; i < 3 && !csp.includes("'sha256-"); i++) {
      const res = await visitor.page.goto(`${BASE}/catalogue?q=clinical`);
      csp = res.headers()['content-security-policy'];
    }
    assert.match(csp, /'sha256-/);
    assert.doesNotMatch(csp, /'nonce-/);
    await visitor.hydrated();
    const results = visitor.page.getByRole('list', { name: 'Search results' });
    const mine = results.getByRole('listitem').filter({ has: visitor.page.getByRole('heading', { name }) });
    await mine.waitFor();
    assert.equal(await mine.getByText('Platform-owned').count(), 0);
    await mine.getByText(/Why this position/).click();
    await mine.getByText('Text relevance').waitFor();
    const firstParty = results.getByRole('listitem').filter({ has: visitor.page.getByRole('heading', { name: 'Fairground Clinical Summary' }) });
    assert.equal(await firstParty.getByText('Platform-owned').count(), 1);

    await mine.getByLabel(`Compare ${name}`).check();
    // With JavaScript the compare button is an island that counts.
    if (js) await visitor.page.getByRole('status').filter({ hasText: '1 ticked: tick one more to compare' }).waitFor();
    await firstParty.getByLabel('Compare Fairground Clinical Summary').check();
    if (js) await visitor.page.getByRole('status').filter({ hasText: /^2 ticked$/ }).waitFor();
    await visitor.page.getByRole('button', { name: /Compare selected/ }).click();
    await visitor.page.waitForURL(/\/compare\?/);
    const table = visitor.page.getByRole('table', { name: 'Listings side by side' });
    await table.getByRole('columnheader', { name }).waitFor();
    const fpColumn = table.getByRole('columnheader', { name: /Fairground Clinical Summary/ });
    await fpColumn.getByText('Platform-owned').waitFor();
    await table.getByText('Clinic: EUR 490.00 a month').waitFor();
    await table.getByText(/Lumen 3 2026-09 \(Lumen AI\)/).waitFor();

    // The listing page renders the description, inert.
    await visitor.page.getByRole('link', { name }).click();
    await visitor.page.getByRole('heading', { name: 'Notes' }).waitFor();
    await visitor.page.getByText('<script>alert(1)</script>').waitFor();

    // The refused plan's own response (422) is the only failed load allowed.
    assert.deepEqual(partner.problems.filter((p) => !/status of 422/.test(p)), []);
    for (const who of [visitor, ref]) assert.deepEqual(who.problems, []);
    for (const who of [partner, visitor, ref]) await who.context.close();
  });
}
