// `node --import ./record-loads.mjs …`: appends the URL of every ES module Node loads (one a line)
// to the file named by ADC_RECORD_LOADS, so a test can assert on a command's module graph.
import { register } from 'node:module';

register('./record-loads-hooks.mjs', import.meta.url, { data: { file: process.env.ADC_RECORD_LOADS } });
