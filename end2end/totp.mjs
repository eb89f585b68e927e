// Codes of two-step sign-in, computed as an authenticator app does, for
// the browser tests and join-referee.mjs (no side effects on import).
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/// The six-digit code of a base32 `secret` for a 30-second `step`
/// (RFC 6238 with HMAC-SHA1), as an authenticator app computes it.
export function totpCode(secret, step) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/[=\s]/g, '').toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', key).update(counter).digest();
  const off = h[19] & 0x0f;
  return String((h.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

/// A code of `secret` not used before: a code is accepted once, and the
/// test files (separate processes) share accounts, so the steps used are
/// kept in a file run.sh names. Waits for the next step when both the
/// current one and the next (accepted too) are used.
export async function freshCode(secret) {
  const file = process.env.FAIRGROUND_E2E_TOTP_STEPS;
  for (;;) {
    const used = file && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    const now = Math.floor(Date.now() / 30000);
    const last = used[secret] ?? -1;
    const step = last < now ? now : last === now ? now + 1 : null;
    if (step !== null) {
      used[secret] = step;
      if (file) writeFileSync(file, JSON.stringify(used));
      return totpCode(secret, step);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
