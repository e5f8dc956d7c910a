#!/usr/bin/env node
// The adc command: runs the compiled CLI from dist/ (built by `npm install` through `prepare`).
import { main } from '../dist/cli/main.js';

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // Bad input is always a diagnostic; reaching here is a bug in adc itself.
  console.error(`adc: internal error: ${error instanceof Error ? error.message : String(error)}`);
  console.error('This is a bug in adc; please report it with the input that caused it.');
  process.exitCode = 70;
}
