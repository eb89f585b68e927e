// Affiliation and recusal in the browser, JavaScript on and off: a player
// sets up a partner organisation of their own and publishes through it in
// a partner's industry. The organisation is platform-affiliated at once:
// the partner is told, the listing cannot go live until a referee signs the
// case off, and it is labelled "Platform-affiliated" once live. A second
// referee with a company of their own is told, in the review queue, to leave
// its listing to another referee, and is offered no decision on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, approve, draftAndSubmit, newOrg, newPlayer, newStaff, person, referee, signUp } from '../support.mjs';

for (const js of [true, false]) {
  test(`a player's shell partner is labelled and stopped at sign-off; a referee recuses (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const tag = `${js ? 'js' : 'nojs'}${Date.now()}`;
    const partner = await person(js);
    await signUp(partner, `fleet-${tag}@example.org`, 'Fay Fleet');
    await newOrg(partner, `Fleet ${tag}`, /Partner/);
    const partnerListing = `Fleet Logs ${tag}`;
    await draftAndSubmit(partner, partnerListing, 'Telecom');
    const ref = await referee(js);
    await approve(ref, partnerListing);
    await ref.page.getByRole('button', { name: `Suspend ${partnerListing}` }).waitFor();

    // A player's own company, on the marketplace as a partner.
    const player = await newPlayer(ref, js, `shell-${tag}@example.org`);
    const shell = `Shell Works ${tag}`;
    await newOrg(player, shell, /Partner/);
    const theirs = `Shell Crew Notes ${tag}`;
    await draftAndSubmit(player, theirs, 'Telecom');

    // The partner is told who it is.
    await partner.page.goto(BASE + '/notifications');
    await partner.page.getByText(`“${shell}”, a platform-affiliated partner, is preparing a listing “${theirs}”`, { exact: false }).waitFor();

    // Labelled in the queue, and not live without a sign-off.
    await ref.page.goto(BASE + '/review');
    await ref.hydrated();
    const row = ref.page.getByRole('listitem').filter({ has: ref.page.getByRole('link', { name: theirs }) });
    await row.getByText('Platform-affiliated', { exact: true }).waitFor();
    await approve(ref, theirs);
    await ref.page.getByRole('alert').filter({ hasText: 'must sign off conflict case' }).waitFor();
    await ref.page.goto(BASE + '/cases');
    await ref.hydrated();
    await ref.page.getByRole('link', { name: new RegExp(`First-party listing “${theirs}”`) }).click();
    await ref.page.getByRole('heading', { name: /Case #\d+: First-party listing/ }).waitFor();
    await ref.hydrated();
    await ref.page.getByLabel('Justification (shown to the parties)').fill('Crew notes for field engineers; the partner serves fleets.');
    await ref.page.getByRole('button', { name: 'Sign off' }).click();
    await ref.page.getByRole('list', { name: 'Timeline' }).getByText(/Signed off: Crew notes/).waitFor();
    await approve(ref, theirs);
    await ref.page.getByRole('button', { name: `Suspend ${theirs}` }).waitFor();

    // Live, and labelled for what it is.
    const visitor = await person(js);
    await visitor.page.goto(`${BASE}/catalogue?q=${encodeURIComponent(tag)}`);
    const results = visitor.page.getByRole('list', { name: 'Search results' });
    const card = results.getByRole('listitem').filter({ has: visitor.page.getByRole('heading', { name: theirs }) });
    await card.getByText('Platform-affiliated', { exact: true }).waitFor();
    const fleet = results.getByRole('listitem').filter({ has: visitor.page.getByRole('heading', { name: partnerListing }) });
    assert.equal(await fleet.getByText('Platform-affiliated', { exact: true }).count(), 0);
    await visitor.page.goto(BASE + '/policy');
    await visitor.page.getByRole('table', { name: /Platform-affiliated organisations/ }).getByText(shell).waitFor();

    // A second referee who runs a company of their own.
    const rex = await newStaff(ref, js, `rex-${tag}@example.org`, 'referee', 'Rex Referee');
    const side = `Side Desk ${tag}`;
    await newOrg(rex, side, /Partner/);
    const sideListing = `Side Ledger ${tag}`;
    await draftAndSubmit(rex, sideListing, 'Finance');
    await rex.page.goto(BASE + '/orgs');
    await rex.hydrated();
    await rex.page.getByRole('button', { name: /^Switch to / }).click();
    await rex.page.getByRole('button', { name: `Switch to ${side}` }).waitFor();
    await rex.page.goto(BASE + '/review');
    await rex.hydrated();
    const mine = rex.page.getByRole('listitem').filter({ has: rex.page.getByRole('link', { name: sideListing }) });
    await mine.getByText('You are a member of its publisher: leave its decisions to another referee.').waitFor();
    assert.equal(await rex.page.getByRole('button', { name: `Approve ${sideListing}` }).count(), 0);
    // Another referee's decision it stays.
    await ref.page.goto(BASE + '/review');
    await ref.hydrated();
    await ref.page.getByRole('button', { name: `Approve ${sideListing}` }).waitFor();

    // The refused approval's own response is the only failed load allowed.
    assert.deepEqual(ref.problems.filter((p) => !/status of 409/.test(p)), []);
    for (const who of [partner, player, visitor, rex]) assert.deepEqual(who.problems, []);
    for (const who of [partner, player, visitor, rex, ref]) await who.context.close();
  });
}
