#!/usr/bin/env node
// Copies the canonical proto (protos/audioproc/v1/audioproc.proto at the repository root)
// into the package's proto/ folder for `npm pack` (the prepack script); with --clean removes
// that copy again (postpack), so that a checkout keeps one proto and reads it from protos/.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const RELATIVE = path.join('audioproc', 'v1', 'audioproc.proto');
const SOURCE = path.join(__dirname, '..', '..', '..', 'protos', RELATIVE);
const BUNDLE = path.join(__dirname, '..', 'proto');

if (process.argv.includes('--clean')) {
  fs.rmSync(BUNDLE, { recursive: true, force: true });
} else {
  if (!fs.existsSync(SOURCE)) {
    console.error(`bundle-proto: ${SOURCE} is missing: pack from a checkout of the repository`);
    process.exit(1);
  }
  fs.mkdirSync(path.dirname(path.join(BUNDLE, RELATIVE)), { recursive: true });
  fs.copyFileSync(SOURCE, path.join(BUNDLE, RELATIVE));
}
