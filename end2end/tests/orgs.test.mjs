// Organisations through the pages, JavaScript on and off: create a partner
// organisation, invite a second person, who accepts, switches between their
// organisations and signs out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, person, signUp } from '../support.mjs';

async function createOrg({ page, hydrated }, name, kind) {
  await page.goto(BASE + '/orgs');
  await hydrated();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel(kind === 'partner' ? /Partner/ : /Client/).check();
  await page.getByRole('button', { name: 'Create organisation' }).click();
  await page.waitForURL(BASE + '/org/members');
  await page.getByRole('heading', { name: `Members of ${name}` }).waitFor();
}

for (const js of [true, false]) {
  test(`create an organisation, invite, accept, switch, sign out (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const tag = `${js ? 'js' : 'nojs'}-${Date.now()}`;
    const owner = await person(js);
    await signUp(owner, `owner-${tag}@example.org`, 'Olivia Owner');
    const partnerName = `Meridian ${tag}`;
    await createOrg(owner, partnerName, 'partner');

    const inviteeEmail = `ivan-${tag}@example.org`;
    await owner.hydrated();
    await owner.page.getByLabel('Their email').fill(inviteeEmail);
    await owner.page.getByRole('button', { name: 'Create invitation' }).click();
    const notice = owner.page.getByRole('status').filter({ hasText: 'Invitation created' });
    await notice.waitFor();
    const link = (await notice.locator('code').innerText()).trim();
    assert.match(link, /\/invitations\/[A-Za-z0-9_-]{40,}$/);
    await owner.page.getByRole('list', { name: 'Pending invitations' }).getByText(inviteeEmail).waitFor();

    const invitee = await person(js);
    await signUp(invitee, inviteeEmail, 'Ivan Invitee');
    const clinicName = `Clinic ${tag}`;
    await createOrg(invitee, clinicName, 'client');
    await invitee.page.goto(link);
    await invitee.hydrated();
    await invitee.page.getByRole('heading', { name: `Join ${partnerName}` }).waitFor();
    await invitee.page.getByRole('button', { name: 'Accept invitation' }).click();
    await invitee.page.waitForURL(BASE + '/org/members');
    await invitee.page.getByRole('heading', { name: `Members of ${partnerName}` }).waitFor();
    const table = invitee.page.getByRole('table', { name: 'Members' });
    await table.getByText('Olivia Owner').waitFor();
    await table.getByText('Ivan Invitee').waitFor();

    await invitee.page.goto(BASE + '/orgs');
    await invitee.hydrated();
    const orgs = invitee.page.getByRole('list', { name: 'Your organisations' });
    assert.equal(await orgs.getByRole('listitem').count(), 2);
    await invitee.page.getByRole('button', { name: `Switch to ${clinicName}` }).click();
    await invitee.page.getByRole('button', { name: `Switch to ${partnerName}` }).waitFor();
    await invitee.page.goto(BASE + '/org/members');
    await invitee.page.getByRole('heading', { name: `Members of ${clinicName}` }).waitFor();

    await invitee.hydrated();
    const nav = invitee.page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('button', { name: 'Sign out' }).click();
    await invitee.page.waitForURL(BASE + '/');
    await nav.getByRole('link', { name: 'Sign in' }).waitFor();

    assert.deepEqual(owner.problems, []);
    assert.deepEqual(invitee.problems, []);
    await owner.context.close();
    await invitee.context.close();
  });
}
