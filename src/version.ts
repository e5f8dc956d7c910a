import { createRequire } from 'node:module';

/** The package version, printed by `adc --version` and written into generated headers. */
export const version: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
