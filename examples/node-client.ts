/**
 * Tagdrop from a Node script: log in with a one-time code, upload with progress, list, tag and share.
 *
 *   TAGDROP_URL=http://localhost:3000 TAGDROP_EMAIL=you@example.com npx tsx examples/node-client.ts ./photo.jpg
 *
 * The script asks for the code that arrives by email (or in the server log in development).
 */
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { createTagdropClient } from '@tagdrop/contracts/client';
import { uploadFile } from '@tagdrop/contracts/upload';

const url = process.env.TAGDROP_URL ?? 'http://localhost:3000';
const email = process.env.TAGDROP_EMAIL;
const path = process.argv[2];
if (!email || !path) {
  console.error('usage: TAGDROP_EMAIL=you@example.com npx tsx examples/node-client.ts <file>');
  process.exit(1);
}

const anonymous = createTagdropClient({ url });
await anonymous.auth.requestOtp.mutate({ email });
const rl = createInterface({ input: process.stdin, output: process.stdout });
const otp = (await rl.question(`Code sent to ${email}: `)).trim();
rl.close();
const { access, user } = await anonymous.auth.verifyOtp.mutate({ email, otp });
console.log(`Logged in as ${user.email} (${user.role})`);

const client = createTagdropClient({ url, token: access });
const size = statSync(path).size;
const file = await uploadFile(
  client,
  createReadStream(path),
  { filename: basename(path), hashtags: ['example'], description: 'Uploaded from #node', is_public: false },
  {
    size,
    onProgress: (sent, total) => process.stdout.write(`\rUploading ${((100 * sent) / total).toFixed(1)}%`),
  },
);
console.log(`\nUploaded ${file.name} (${file.size} bytes, ${file.mime_type}), sha256 ${file.sha256}`);
console.log(`Private link: ${file.share_url}`);

const { results } = await client.files.list.query({ hashtag: 'example' });
console.log(`Files tagged #example: ${results.map((f) => f.name).join(', ')}`);

const rotated = await client.files.rotateLink.mutate({ id: file.id });
console.log(`New private link (the old one is dead): ${rotated.share_url}`);
