// Under a course platform's strict Content-Security-Policy (no inline script or style; every
// page of the suite is served with it, scripts/serve.mjs CSP): the lesson page and embed.html
// render the widget styled, with no console error, and the header is really there.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, ready } from './helpers.mjs';
import { CSP } from '../../scripts/serve.mjs';

let env;

before(async () => {
  env = await setup({ webgpu: false });
});

after(() => env?.close());

for (const path of ['index.html', 'embed.html?task=qa&steps=2&panels=train,memory']) {
  test(`${path.split('?')[0]} under "${CSP}"`, { timeout: 120_000 }, async () => {
    const page = await openPage(env, path);
    const response = await page.request.get(env.url + path);
    assert.equal(response.headers()['content-security-policy'], CSP);
    const widget = await ready(page);
    // The widget's stylesheet applied (a constructed one: a <style> element would be refused).
    const radius = await widget.evaluate((el) => getComputedStyle(el.shadowRoot.querySelector('.lab')).borderTopLeftRadius);
    assert.equal(radius, '10px');
    assert.deepEqual(page.problems(), []);
  });
}
