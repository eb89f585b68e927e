// Signing up, out and in through the pages, with JavaScript on (enhanced
// forms, client-side navigation) and off (plain form posts and redirects).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PASSWORD, person, signUp, turnOnTwoStep } from '../support.mjs';

for (const js of [true, false]) {
  test(`sign up, sign out, sign in (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const { context, page, problems, hydrated } = await person(js);
    const email = `ada-${js ? 'js' : 'nojs'}-${Date.now()}@example.org`;

    await page.goto(BASE + '/sign-up');
    await hydrated();
    // A weak password is refused, with the reason next to the field.
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Your name').fill('Ada Lovelace');
    await page.getByLabel('Password').fill('password1234');
    // With JavaScript the form is sent in place: the page is not reloaded
    // (a mark left on it survives), what was typed stays (the password
    // excepted), focus goes to the field in error and the outcome is read
    // out. Without it the page comes back from the server.
    await page.evaluate(() => { window.samePage = true; });
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#password-error').getByText('This password is too easy to guess', { exact: false }).waitFor();
    assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
    if (js) {
      await hydrated();
      assert.equal(await page.evaluate(() => window.samePage), true, 'sent in place, not reloaded');
      assert.equal(await page.getByLabel('Email').inputValue(), email);
      assert.equal(await page.getByLabel('Your name').inputValue(), 'Ada Lovelace');
      assert.equal(await page.getByLabel('Password').inputValue(), '');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
      assert.match(await page.locator('#in-place-status').innerText(), /^Not done: .*too easy to guess/);
      assert.equal(new URL(page.url()).pathname, '/sign-up');
    }

    await hydrated();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Your name').fill('Ada Lovelace');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(BASE + '/account');
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Ada Lovelace' }).waitFor();
    assert.equal(await page.getByText(email, { exact: true }).count(), 1);

    await hydrated();
    await nav.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(BASE + '/');
    await nav.getByRole('link', { name: 'Sign in' }).waitFor();

    await page.goto(BASE + '/sign-in');
    await hydrated();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not the right one');
    await page.evaluate(() => { window.samePage = true; });
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That email and password do not match an account.' }).waitFor();
    if (js) {
      await hydrated();
      assert.equal(await page.evaluate(() => window.samePage), true, 'sent in place, not reloaded');
      assert.equal(await page.getByLabel('Email').inputValue(), email);
      assert.match(await page.locator('#in-place-status').innerText(), /do not match an account/);
      // No field is in error: focus goes to the form-wide alert, so that it
      // is where a keyboard or screen-reader user continues from.
      assert.equal(
        await page.evaluate(() => document.activeElement?.textContent.trim()),
        'That email and password do not match an account.',
      );
    }

    await hydrated();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(BASE + '/account');
    await nav.getByRole('link', { name: 'Ada Lovelace' }).waitFor();

    // Only the refused submissions' own responses may be reported as failed loads.
    assert.deepEqual(problems.filter((p) => !/status of 4(22|29)/.test(p)), []);
    await context.close();
  });
}

for (const js of [true, false]) {
  test(`two-step sign-in: turned on with an app code, signed in with a recovery code (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const who = await person(js);
    const email = `tess-${js ? 'js' : 'nojs'}-${Date.now()}@example.org`;
    await signUp(who, email, 'Tess Two');
    const { recovery, inPlace } = await turnOnTwoStep(who);
    assert.equal(recovery.length, 10);
    assert.equal(inPlace, js, 'with JavaScript the three steps are done in place');
    await who.page.getByText('On since').waitFor();

    // The password alone leads to the code page, and a wrong code is refused there.
    const again = await person(js);
    await again.page.goto(BASE + '/sign-in');
    await again.hydrated();
    await again.page.getByLabel('Email').fill(email);
    await again.page.getByLabel('Password').fill(PASSWORD);
    await again.page.getByRole('button', { name: 'Sign in' }).click();
    await again.page.waitForURL(BASE + '/sign-in/code');
    await again.hydrated();
    await again.page.getByLabel('Code').fill('abcd-efgh-jkmn');
    await again.page.getByRole('button', { name: 'Continue' }).click();
    await again.page.getByText('That code is not right.', { exact: false }).first().waitFor();
    assert.equal(await again.page.getByLabel('Code').getAttribute('aria-invalid'), 'true');
    await again.hydrated();
    await again.page.getByLabel('Code').fill(recovery[0]);
    await again.page.getByRole('button', { name: 'Continue' }).click();
    await again.page.waitForURL(BASE + '/account');
    await again.page.getByText('9 of 10 recovery codes left').waitFor();

    assert.deepEqual(who.problems.filter((p) => !/status of 4(22|29)/.test(p)), []);
    assert.deepEqual(again.problems.filter((p) => !/status of 4(22|29)/.test(p)), []);
    await who.context.close();
    await again.context.close();
  });
}
