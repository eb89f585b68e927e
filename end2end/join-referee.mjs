// Run once by run.sh before the browser tests: creates the account of the
// referee bootstrapped by `fairground admin bootstrap`, confirms its
// address with the link in the outbox, accepts its invitation and turns on
// two-step sign-in, through the same server functions the pages use.
// Prints the two-step secret on its last line.
import { confirmationLink } from './outbox.mjs';
import { freshCode } from './totp.mjs';

const [base, email, password, token] = process.argv.slice(2);
const headers = (cookie) => ({
  'content-type': 'application/x-www-form-urlencoded',
  accept: 'application/json',
  origin: base,
  ...(cookie ? { cookie } : {}),
});
const signUp = await fetch(`${base}/api/fn/sign_up`, {
  method: 'POST',
  headers: headers(),
  body: new URLSearchParams({ email, display_name: 'Rita Referee', password }),
  redirect: 'manual',
});
if (signUp.status >= 400) throw new Error(`sign up: ${signUp.status} ${await signUp.text()}`);
const cookie = signUp.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
const confirmToken = confirmationLink(email).split('/verify-email/')[1];
const confirm = await fetch(`${base}/api/fn/verify_email`, {
  method: 'POST',
  headers: headers(),
  body: new URLSearchParams({ token: confirmToken }),
  redirect: 'manual',
});
if (confirm.status >= 400) throw new Error(`confirm: ${confirm.status} ${await confirm.text()}`);
const accept = await fetch(`${base}/api/fn/accept_invitation`, {
  method: 'POST',
  headers: headers(cookie),
  body: new URLSearchParams({ token }),
  redirect: 'manual',
});
if (accept.status >= 400) throw new Error(`accept: ${accept.status} ${await accept.text()}`);
const call = async (cookie, fn, fields = {}) => {
  const res = await fetch(`${base}/api/fn/${fn}`, {
    method: 'POST',
    headers: headers(cookie),
    body: new URLSearchParams(fields),
    redirect: 'manual',
  });
  if (res.status >= 400) throw new Error(`${fn}: ${res.status} ${await res.text()}`);
  const set = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { body: await res.json(), cookie: set || cookie };
};
// Joining moved the session to a new id.
const joined = accept.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') || cookie;
const { cookie: held } = await call(joined, 'begin_two_step');
const { body: view } = await call(held, 'two_step');
const secret = view.setup.secret;
await call(held, 'confirm_two_step', { code: await freshCode(secret) });
console.log(`${email} joined the platform as referee, with two-step sign-in`);
console.log(secret);
