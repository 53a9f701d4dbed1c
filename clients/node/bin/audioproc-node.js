#!/usr/bin/env node
// audioproc-node: streams audio through an audioproc server and writes the result.
//
//   audioproc-node --input=in.wav --output=out.wav --chain='highpass:cutoff_hz=80,limiter'
//   arecord -f S16_LE -r 16000 -c 1 -t raw | audioproc-node --input - \
//       --format s16le:16000:1 --output - --chain=denoise | aplay -f S16_LE -r 16000 -c 1
//   audioproc-node --list
'use strict';

const { main } = require('../lib/cli');

main().then((code) => { process.exitCode = code; });
