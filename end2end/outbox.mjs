// The newest address-confirmation link sent to an address, read from the
// outbox with the operator's command (`fairground admin outbox`), as a
// mailbox would receive it. FAIRGROUND_E2E_BIN names the binary (run.sh).
import { execFileSync } from 'node:child_process';

export function confirmationLink(email) {
  const out = execFileSync(process.env.FAIRGROUND_E2E_BIN, ['admin', 'outbox', '--to', email], { encoding: 'utf8' });
  const links = out.match(/https?:\/\/\S+\/verify-email\/[A-Za-z0-9_-]+/g);
  if (!links) throw new Error(`no confirmation link was sent to ${email}`);
  return links[links.length - 1];
}
