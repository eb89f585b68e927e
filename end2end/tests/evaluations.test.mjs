// Evaluations in the browser, JavaScript on and off: a referee publishes a
// set (a malformed one is refused next to its field), runs healthcare's
// demo set on a demo deployment through the platform, and the listing's
// page shows the verified score beside the self-reported one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, person, referee } from '../support.mjs';

for (const js of [true, false]) {
  test(`a referee publishes a set and runs one; the score is shown as verified (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const ref = await referee(js);
    const { page } = ref;
    await page.goto(BASE + '/evaluations');
    await ref.hydrated();

    // A malformed set: told which line, next to the field.
    const name = `Contract clauses ${js ? 'js' : 'nojs'} ${Date.now()}`;
    await page.getByLabel('Industry').selectOption({ label: 'Legal' });
    await page.getByLabel('Set name').fill(name);
    await page.getByLabel('Scoring rule').selectOption('contains');
    await page.getByLabel('Items (JSON Lines)').fill('{"prompt": "Which law governs?", "expected": "English law"}\nnot json');
    await page.getByLabel('Reason (published)').fill('Clauses every contract model must read.');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.locator('#items-error').getByText('Line 2 is not a JSON object.').waitFor();
    await ref.hydrated();
    await page.getByLabel('Industry').selectOption({ label: 'Legal' });
    await page.getByLabel('Set name').fill(name);
    await page.getByLabel('Items (JSON Lines)').fill('{"prompt": "Which law governs?", "expected": "English law"}');
    await page.getByLabel('Reason (published)').fill('Clauses every contract model must read.');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByRole('heading', { name: `Legal: ${name}` }).waitFor();

    // Healthcare's demo set on a demo deployment.
    await ref.hydrated();
    const option = page.locator('#deployment_id option').filter({ hasText: 'meridian-triage-assist@' }).first();
    await page.getByLabel('Deployment').selectOption(await option.getAttribute('value'));
    await page.getByRole('button', { name: "Run the industry's set" }).click();
    await page.getByRole('heading', { name: /^Evaluation of meridian-triage-assist@/ }).waitFor();
    // The stand-in model echoes the prompt: three of five items name their answer.
    await page.getByText('60 / 100: 3 of 5 items passed').waitFor();
    const outcomes = await page.getByRole('table', { name: 'Items' }).locator('tbody td:last-child').allTextContents();
    assert.deepEqual(outcomes, ['Passed', 'Passed', 'Failed', 'Passed', 'Failed']);

    const visitor = await person(js);
    await visitor.page.goto(BASE + '/listings/meridian-triage-assist');
    await visitor.hydrated();
    const deployments = visitor.page.getByRole('table', { name: 'Deployments' });
    await deployments.getByRole('link', { name: /^60 \/ 100 \(run / }).waitFor();
    // The malformed set was answered 422, on purpose.
    assert.deepEqual(ref.problems.filter((p) => !/status of 422/.test(p)), []);
    assert.deepEqual(visitor.problems, []);
    await ref.context.close();
    await visitor.context.close();
  });
}
