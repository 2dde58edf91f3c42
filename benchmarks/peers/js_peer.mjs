// Parse one WhatsApp export with the npm package whatsapp-chat-parser and print one JSON line.
// Usage: node js_peer.mjs NODE_PREFIX FILE   (NODE_PREFIX holds node_modules/whatsapp-chat-parser)
// parse_seconds covers reading the file and parseString, as a Node user would call it.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [prefix, file] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(prefix), 'package.json'));
const entry = require.resolve('whatsapp-chat-parser');
const pkg = JSON.parse(
  fs.readFileSync(path.join(path.resolve(prefix), 'node_modules/whatsapp-chat-parser/package.json'), 'utf8'),
);
const whatsapp = await import(pathToFileURL(entry).href);
const t0 = process.hrtime.bigint();
const text = fs.readFileSync(file, 'utf8');
const messages = whatsapp.parseString(text);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(
  JSON.stringify({ messages: messages.length, parse_seconds: seconds, version: pkg.version, notes: [] }) + '\n',
);
