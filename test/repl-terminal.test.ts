/**
 * `adc repl` at a real terminal: the built command in a tmux pane, typed at and read back as a
 * person would. History (1,000 entries, one per line, blocks kept whole and brought back by Up),
 * adc's own words for node:repl's dot commands and Ctrl-C, and Ctrl-D inside an open block.
 * Skipped, with the reason under the run's summary, where tmux is not installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'adc-repl-tty-'));
// A tmux server of its own (-L), so no other tmux on the machine is touched; each terminal is a new
// session, so the server never exits between two of them (a new session racing a dying server fails).
const socket = `adc-test-${process.pid}`;
let session = '';
let sessions = 0;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
afterAll(() => {
  if (hasTmux) spawnSync('tmux', ['-L', socket, 'kill-server']);
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `adc repl` in a fresh pane; `screen()` is what the pane shows, `type` sends keys. */
function terminal(historyFile: string) {
  session = `repl-${++sessions}`;
  const command = `cd ${JSON.stringify(root)} && ADC_HISTORY=${JSON.stringify(historyFile)} NO_COLOR=1 ${JSON.stringify(process.execPath)} bin/adc.js repl; echo "[exit $?]"; sleep 60`;
  tmux('new-session', '-d', '-s', session, '-x', '150', '-y', '50', command);
  const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', session);
  const waitFor = async (text: string | RegExp, after = 0) => {
    for (let t = 0; t < 300; t++) {
      const shown = screen().slice(after);
      if (typeof text === 'string' ? shown.includes(text) : text.test(shown)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(screen()).toContain(String(text));
  };
  const type = (...keys: string[]) => tmux('send-keys', '-t', session, ...keys);
  return { screen, waitFor, type };
}

describe('adc repl at a terminal (tmux)', () => {
  it('keeps 1,000 history entries one per line, blocks whole, and brings them back with Up', async (context) => {
    if (!hasTmux) context.skip('tmux is not installed: sudo apt-get install tmux');
    const historyFile = join(dir, 'history');
    // An older, longer file (node:repl wrote 30 at most, but a file can be anything): the last 1,000 are kept.
    writeFileSync(historyFile, Array.from({ length: 1200 }, (_, k) => `${k} + 0`).join('\n') + '\n');
    let t = terminal(historyFile);
    await t.waitFor('adc> ');
    t.type('fn g(x) {', 'Enter');
    await t.waitFor('... ');
    t.type('  let a = x * 2', 'Enter', 'return a', 'Enter', '}', 'Enter');
    await t.waitFor('defined g(x)');
    t.type('g(21)', 'Enter');
    await t.waitFor(/\n42\n/);
    t.type(':quit', 'Enter');
    await t.waitFor('[exit 0]');
    const lines = readFileSync(historyFile, 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(-4, -1)).toEqual(['fn g(x) { let a = x * 2 return a }', 'g(21)', ':quit']);
    expect(lines.slice(0, -1)).toHaveLength(1003);
    expect(lines[0]).toBe('200 + 0');

    // A new session: Up brings back g(21), then the block as one line, which runs again.
    t = terminal(historyFile);
    await t.waitFor('adc> ');
    t.type('Up', 'Up', 'Up');
    await t.waitFor('adc> fn g(x) { let a = x * 2 return a }');
    t.type('Enter');
    await t.waitFor('defined g(x)');
    t.type('g(1)', 'Enter');
    await t.waitFor(/\n2\n/);
    // The file was cut back to 1,000 at start (203 + 0 … :quit) and this session added two:
    // Up reaches exactly 1,000 entries back, to 205 + 0, and no further.
    const before = t.screen().length;
    tmux('send-keys', '-t', session, '-N', '1000', 'Up');
    await t.waitFor('adc> 205 + 0', Math.max(0, before - 200));
    // One more Up goes past the oldest entry, to the empty line; 204 + 0 was not kept.
    t.type('Up');
    await new Promise((r) => setTimeout(r, 300));
    expect(t.screen()).not.toContain('204 + 0');
    t.type('C-u', 'C-d');
    await t.waitFor('[exit 0]');
  }, 60_000);

  it("answers node:repl's dot commands and Ctrl-C in adc's words; Ctrl-D in an open block says it was not run", async (context) => {
    if (!hasTmux) context.skip('tmux is not installed: sudo apt-get install tmux');
    const t = terminal('');
    await t.waitFor('adc> ');
    t.type('.help', 'Enter');
    await t.waitFor(':quit                     leave (or Ctrl+D)');
    t.type('.save', 'Enter');
    await t.waitFor('error: usage: :save FILE.ad');
    t.type('.foo', 'Enter');
    await t.waitFor("'.foo' is not an adc command: adc's commands start with ':' (:help lists them; :quit leaves)");
    expect(t.screen()).not.toContain('Invalid REPL keyword');
    t.type('C-c');
    await t.waitFor('(To leave, press Ctrl-C again or Ctrl-D, or type :quit)');
    expect(t.screen()).not.toContain('.exit');
    t.type('fn h(x) {', 'Enter');
    await t.waitFor('... ');
    t.type('C-c');
    await t.waitFor('(the unfinished block was dropped)');
    t.type('h(1)', 'Enter');
    await t.waitFor("unknown function 'h'");
    t.type('fn k(x) {', 'Enter');
    await t.waitFor(/fn k\(x\) \{\n\.\.\. /);
    t.type('C-d');
    await t.waitFor('(the unfinished block was not run)');
    await t.waitFor('[exit 0]');
  }, 60_000);
});
