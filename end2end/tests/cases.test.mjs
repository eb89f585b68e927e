// The non-compete flow in the browser, JavaScript on and off: a partner
// publishes in an industry; a player drafts a first-party listing there;
// the case appears for referees and the partner is notified; the listing
// cannot go live until a referee signs the case off; then it is live and
// labelled "Platform-owned".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, approve, draftAndSubmit, newOrg, newPlayer, person, referee, signUp } from '../support.mjs';

for (const js of [true, false]) {
  test(`a first-party listing in a partner's industry needs a signed-off case (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const tag = `${js ? 'js' : 'nojs'}${Date.now()}`;
    const partner = await person(js);
    await signUp(partner, `crew-${tag}@example.org`, 'Cora Crew');
    await newOrg(partner, `Crew ${tag}`, /Partner/);
    const partnerListing = `Crew Reports ${tag}`;
    await draftAndSubmit(partner, partnerListing, 'Telecom');
    const ref = await referee(js);
    await approve(ref, partnerListing);
    await ref.page.getByRole('button', { name: `Suspend ${partnerListing}` }).waitFor();

    // The referee brings in a player, who drafts a first-party listing there.
    const player = await newPlayer(ref, js, `player-${tag}@example.org`);
    const ours = `Platform Crew Notes ${tag}`;
    await draftAndSubmit(player, ours, 'Telecom');

    // The partner is told; the referee sees the case.
    await partner.page.goto(BASE + '/notifications');
    await partner.page.getByText(`The platform is preparing its own listing “${ours}”`, { exact: false }).waitFor();
    await ref.page.goto(BASE + '/cases');
    await ref.hydrated();
    const caseLink = ref.page.getByRole('link', { name: new RegExp(`First-party listing “${ours}”`) });
    await caseLink.waitFor();

    // Not live without a sign-off.
    await approve(ref, ours);
    await ref.page.getByRole('alert').filter({ hasText: 'must sign off conflict case' }).waitFor();

    await ref.page.goto(BASE + '/cases');
    await ref.hydrated();
    await caseLink.click();
    await ref.page.getByRole('heading', { name: new RegExp(`Case #\\d+: First-party listing`) }).waitFor();
    await ref.page.getByRole('table', { name: 'Listings side by side' }).getByRole('link', { name: partnerListing }).waitFor();
    await ref.hydrated();
    await ref.page.getByLabel('Justification (shown to the parties)').fill('A telecom crew tool; the partner serves utilities.');
    await ref.page.getByRole('button', { name: 'Sign off' }).click();
    await ref.page.getByRole('list', { name: 'Timeline' }).getByText(/Signed off: A telecom crew tool/).waitFor();

    await approve(ref, ours);
    await ref.page.getByRole('button', { name: `Suspend ${ours}` }).waitFor();

    // Live, and labelled.
    const visitor = await person(js);
    await visitor.page.goto(`${BASE}/catalogue?q=${encodeURIComponent(tag)}`);
    const results = visitor.page.getByRole('list', { name: 'Search results' });
    const card = results.getByRole('listitem').filter({ has: visitor.page.getByRole('heading', { name: ours }) });
    await card.getByText('Platform-owned', { exact: true }).waitFor();
    const theirs = results.getByRole('listitem').filter({ has: visitor.page.getByRole('heading', { name: partnerListing }) });
    assert.equal(await theirs.getByText('Platform-owned', { exact: true }).count(), 0);

    // The refused approval's own response is the only failed load allowed.
    assert.deepEqual(ref.problems.filter((p) => !/status of 409/.test(p)), []);
    for (const who of [partner, player, visitor]) assert.deepEqual(who.problems, []);
    for (const who of [partner, player, visitor, ref]) await who.context.close();
  });
}
