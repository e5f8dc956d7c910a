#!/usr/bin/env node
// The adc command: runs the compiled CLI from dist/ (built by `npm install` through `prepare`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
