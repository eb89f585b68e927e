// Run once by run.sh before the browser tests: creates the account of the
// referee bootstrapped by `fairground admin bootstrap`, confirms its
// address with the link in the outbox and accepts its invitation, through
// the same server functions the pages use.
import { confirmationLink } from './outbox.mjs';

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
console.log(`${email} joined the platform as referee`);
