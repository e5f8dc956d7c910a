/**
 * `npm run bench -- --only scale` (also part of the whole run): how adc itself scales.
 *
 * - Start-up: each command as a user runs it (`node bin/adc.js …`, the built package), against
 *   `node -e 0` in the same rounds. With `--before DIR`, the same commands of another checkout
 *   (e.g. a worktree of the previous commit, built) are timed in the same rounds too.
 * - Compile time per statement of the generated let chain (bench/chain.ts) at 1k/10k/100k.
 * - The REPL: time per line with 10 and with 10,000 definitions in the session.
 * - Watch mode: a one-line edit to a 1,000-line file, from the write to the output reported.
 *
 * Writes bench/scale-results.md and bench/scale-results.json. Times are wall-clock on a machine
 * that may be shared: start-up takes the fastest of the rounds; compile times also give CPU time.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { watchFiles } from '../src/cli/watch.ts';
import { compileFile } from '../src/cli/compile-files.ts';
import { Session } from '../src/repl/session.ts';
import { chainSource } from './chain.ts';
import { loopsInARow, nestedLoops } from './shapes.ts';
import { callChains, chainBody, chainHead, chainSpeed, chainSpeedBody, chainSpeedHead } from './call-chains.ts';
import { markdownTable, textTable } from './format.ts';

type Log = (line?: string) => void;
const root = fileURLToPath(new URL('..', import.meta.url));
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => (x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`);

// ---------------------------------------------------------------------------------------------
// Start-up

/**
 * CPU time (user + system, ms) of the children this process has waited for, from /proc/self/stat
 * (Linux; in clock ticks of 10 ms, so averaged over the rounds); undefined elsewhere.
 */
function childrenCpuMs(): number | undefined {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
    // After the command name: state is field 3, so cutime and cstime (fields 16, 17) are at 13, 14.
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return undefined;
  }
}

interface StartupRow {
  command: string;
  minMs: number;
  medianMs: number;
  /** Mean CPU time per run (user + system), when the platform says. */
  cpuMs?: number;
  overNodeMs: number;
  target?: number;
  beforeMinMs?: number;
  beforeCpuMs?: number;
}

function startup(log: Log, before: string | undefined, rounds: number): StartupRow[] {
  const dir = mkdtempSync(join(os.tmpdir(), 'adc-bench-startup-'));
  writeFileSync(join(dir, 'one.ad'), 'fn f(x) = x^2\n');
  const commands: { name: string; args: (checkout: string) => string[]; input?: string; target?: number; cwd?: (checkout: string) => string }[] = [
    { name: 'node -e 0', args: () => ['-e', '0'] },
    { name: 'adc --version', args: (c) => [join(c, 'bin/adc.js'), '--version'], target: 50 },
    { name: 'adc --help', args: (c) => [join(c, 'bin/adc.js'), '--help'], target: 50 },
    { name: 'adc compile one.ad (one line)', args: (c) => [join(c, 'bin/adc.js'), 'compile', join(dir, 'one.ad'), '-o', join(dir, 'one.js')], target: 200 },
    { name: "adc repl (piped ':quit')", args: (c) => [join(c, 'bin/adc.js'), 'repl'], input: ':quit\n', target: 300 },
    { name: "import the API (node -e \"import 'adc-compiler'\")", args: (c) => ['--input-type=module', '-e', `import ${JSON.stringify(join(c, 'dist/index.js'))};`], target: 150 },
  ];
  const checkouts = before ? [root, resolve(before)] : [root];
  const times = new Map<string, number[]>();
  const cpu = new Map<string, number>();
  const run = (key: string, args: string[], input?: string) => {
    const cpuBefore = childrenCpuMs();
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { input: input ?? '', encoding: 'utf8', env: { ...process.env, ADC_HISTORY: '', NO_COLOR: '1' } });
    const elapsed = performance.now() - t;
    const cpuAfter = childrenCpuMs();
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
    if (cpuBefore !== undefined && cpuAfter !== undefined) cpu.set(key, (cpu.get(key) ?? 0) + cpuAfter - cpuBefore);
    return elapsed;
  };
  for (let round = 0; round < rounds; round++) {
    // Interleaved, so load on the machine weighs on every command alike.
    for (const checkout of checkouts) {
      for (const c of commands) {
        if (checkout !== root && c.name === 'node -e 0') continue;
        const key = `${checkout}\u0000${c.name}`;
        times.set(key, [...(times.get(key) ?? []), run(key, c.args(checkout), c.input)]);
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const node = Math.min(...times.get(`${root}\u0000node -e 0`)!);
  const rows = commands.map((c) => {
    const own = times.get(`${root}\u0000${c.name}`)!;
    const old = before ? times.get(`${resolve(before)}\u0000${c.name}`) : undefined;
    return {
      command: c.name,
      minMs: Math.min(...own),
      medianMs: median(own),
      ...(cpu.has(`${root}\u0000${c.name}`) && { cpuMs: cpu.get(`${root}\u0000${c.name}`)! / rounds }),
      overNodeMs: Math.min(...own) - node,
      ...(c.target !== undefined && { target: c.target }),
      ...(old && { beforeMinMs: Math.min(...old) }),
      ...(old && cpu.has(`${resolve(before!)}\u0000${c.name}`) && { beforeCpuMs: cpu.get(`${resolve(before!)}\u0000${c.name}`)! / rounds }),
    };
  });
  log(`start-up: ${rows.map((r) => `${r.command} ${ms(r.minMs)}`).join(', ')}`);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Compile time per statement

interface CompileRow {
  statements: number;
  sourceBytes: number;
  outputBytes: number;
  wallMs: number;
  cpuMs: number;
  /** The same compile by the `--before` checkout. */
  before?: { wallMs: number; cpuMs: number };
}

/**
 * One compile of the chain in `file` by a checkout's built package (dist/index.js), in a child
 * process of its own so that neither checkout's garbage weighs on the other's: the child warms the
 * compiler on a 1,000-statement chain first, then times one compileSync (wall and its own CPU).
 */
function compileInChild(checkout: string, file: string, warmFile = file + '.warm'): { wallMs: number; cpuMs: number; outputBytes: number } {
  const api = JSON.stringify(pathToFileURL(join(checkout, 'dist/index.js')).href);
  const script = `
    import { readFileSync } from 'node:fs';
    const { compileSync } = await import(${api});
    const source = readFileSync(${JSON.stringify(file)}, 'utf8');
    const warm = readFileSync(${JSON.stringify(warmFile)}, 'utf8');
    compileSync(warm);
    const cpu = process.cpuUsage();
    const t = performance.now();
    const result = compileSync(source);
    const wallMs = performance.now() - t;
    const used = process.cpuUsage(cpu);
    if (result.code === undefined) throw new Error(result.diagnostics.map((d) => d.message).join('; '));
    process.stdout.write(JSON.stringify({ wallMs, cpuMs: (used.user + used.system) / 1000, outputBytes: result.code.length }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`compiling ${file} with ${checkout} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { wallMs: number; cpuMs: number; outputBytes: number };
}

export function compileTimes(log: Log, sizes: readonly number[], before: string | undefined): CompileRow[] {
  const dir = mkdtempSync(join(os.tmpdir(), 'adc-bench-compile-'));
  try {
    return sizes.map((n) => {
      const source = chainSource(n);
      const file = join(dir, `chain-${n}.ad`);
      writeFileSync(file, source);
      writeFileSync(file + '.warm', chainSource(1_000));
      let best: CompileRow | undefined;
      for (let run = 0; run < (n >= 100_000 ? 1 : n >= 10_000 ? 2 : 3); run++) {
        // Interleaved, so load on the machine weighs on both checkouts alike.
        const own = compileInChild(root, file);
        const old = before ? compileInChild(resolve(before), file) : undefined;
        const row: CompileRow = { statements: n, sourceBytes: source.length, outputBytes: own.outputBytes, wallMs: own.wallMs, cpuMs: own.cpuMs };
        if (!best || row.cpuMs < best.cpuMs) best = { ...row, ...(best?.before && { before: best.before }) };
        if (old && (!best.before || old.cpuMs < best.before.cpuMs)) best = { ...best, before: { wallMs: old.wallMs, cpuMs: old.cpuMs } };
      }
      log(`compile: ${n} statements in ${ms(best!.wallMs)}, CPU ${ms(best!.cpuMs)} (${((best!.cpuMs * 1000) / n).toFixed(0)} µs per statement)${best!.before ? `; before: CPU ${ms(best!.before.cpuMs)}` : ''}`);
      return best!;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ShapeRow {
  shape: string;
  outputBytes: number;
  wallMs: number;
  cpuMs: number;
  /** The same compile by the `--before` checkout; undefined when not run (it would take hours). */
  before?: { wallMs: number; cpuMs: number };
}

/** The shapes of bench/shapes.ts, each compiled once by this checkout and the one before (when it finishes in reasonable time). */
export function shapeTimes(log: Log, before: string | undefined): ShapeRow[] {
  const shapes = [
    { shape: '1,000 loops in a row', source: loopsInARow(1_000) },
    { shape: '4,000 loops in a row', source: loopsInARow(4_000) },
    { shape: 'loops nested 8 deep', source: nestedLoops(8) },
    { shape: 'loops nested 10 deep', source: nestedLoops(10) },
    // Before: 3^depth sweeps of dead-code elimination, hours.
    { shape: 'loops nested 16 deep', source: nestedLoops(16), beforeRuns: false },
    { shape: 'loops nested 32 deep', source: nestedLoops(32), beforeRuns: false },
  ];
  const dir = mkdtempSync(join(os.tmpdir(), 'adc-bench-shapes-'));
  try {
    const warm = join(dir, 'warm.ad');
    writeFileSync(warm, chainSource(1_000));
    return shapes.map(({ shape, source, beforeRuns }) => {
      const file = join(dir, 'shape.ad');
      writeFileSync(file, source);
      const own = compileInChild(root, file, warm);
      const old = before && beforeRuns !== false ? compileInChild(resolve(before), file, warm) : undefined;
      log(`compile: ${shape}, CPU ${ms(own.cpuMs)}${old ? `; before: CPU ${ms(old.cpuMs)}` : ''}`);
      return { shape, outputBytes: own.outputBytes, wallMs: own.wallMs, cpuMs: own.cpuMs, ...(old && { before: { wallMs: old.wallMs, cpuMs: old.cpuMs } }) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The REPL

interface ReplRow {
  definitions: number;
  loadMs: number;
  perLineMs: number;
  perLineCpuMs: number;
  lines: number;
}

async function replLines(log: Log, sizes: readonly number[]): Promise<ReplRow[]> {
  const rows: ReplRow[] = [];
  for (const n of sizes) {
    const session = new Session();
    const t0 = performance.now();
    const loaded = session.define(Array.from({ length: n }, (_, i) => `fn h${i}(x, y) = sin(x * ${i + 1}) * y + x^2`).join('\n'));
    const loadMs = performance.now() - t0;
    if (!loaded.ok) throw new Error(loaded.problems.format());
    // A few lines first, untimed: the garbage of loading the session is collected during them.
    for (let k = 0; k < 5; k++) await session.evaluate(`h${(k * 31) % n}(0.5, 2)`);
    const times: number[] = [];
    const cpuStart = process.cpuUsage();
    for (let k = 0; k < 10; k++) {
      const i = (k * 7919) % n;
      for (const line of [`fn p${k}(x) = h${i}(x, 2) + 1`, `p${k}(0.5)`, `grad h${i}(0.5, 2)`]) {
        const t = performance.now();
        const out = line.startsWith('fn') ? session.define(line) : line.startsWith('grad') ? await session.grad(line.slice(5)) : await session.evaluate(line);
        times.push(performance.now() - t);
        if (!out.ok) throw new Error(out.problems.format());
      }
    }
    const cpuUsed = process.cpuUsage(cpuStart);
    rows.push({ definitions: n, loadMs, perLineMs: median(times), perLineCpuMs: (cpuUsed.user + cpuUsed.system) / 1000 / times.length, lines: times.length });
    log(`repl: ${n} definitions, ${ms(median(times))} per line (median of ${times.length})`);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Watch mode

interface WatchResult {
  lines: number;
  functions: number;
  firstCompileMs: number;
  editMs: number;
  editCpuMs: number;
  editWithoutCacheMs: number;
  edits: number;
}

/** A 1,000-line file: 100 functions of 10 lines, every fifth calling the one before it. */
function watchSource(): string {
  const out: string[] = [];
  for (let f = 0; f < 100; f++) {
    out.push(`fn f${f}(x, y) {`);
    for (let i = 0; i < 7; i++) out.push(`  let a${i} = ${i === 0 ? (f % 5 === 4 ? `f${f - 1}(x, y) * 0.5` : 'x * y') : `sin(a${i - 1}) * ${(i + f) % 7 + 1} + y`}`);
    out.push('  return a6', '}');
  }
  return out.join('\n') + '\n';
}

async function watchEdit(log: Log): Promise<WatchResult> {
  const dir = mkdtempSync(join(os.tmpdir(), 'adc-bench-watch-'));
  const file = join(dir, 'model.ad');
  const source = watchSource();
  writeFileSync(file, source);
  const controller = new AbortController();
  let waiting: { word: string; resolve: () => void } | undefined;
  const report = {
    out: (line: string) => {
      if (waiting && line.includes(waiting.word)) waiting.resolve();
    },
    err: (line: string) => {
      throw new Error(line);
    },
  };
  /** Resolves when watch reports a line with `word`: '→' once a file is written. */
  const reported = (word = '→') => new Promise<void>((resolve) => (waiting = { word, resolve }));
  let t = performance.now();
  // Until it says it is watching (its watchers are set up after the first compile).
  const first = reported('watching');
  const watching = watchFiles([file], { format: true, debounceMs: 0 }, report, controller.signal);
  await first;
  const firstCompileMs = performance.now() - t;
  // Edits: a number on a line in the middle of the file, alternating between two values.
  const lines = source.split('\n');
  const target = lines.findIndex((l) => l.startsWith('fn f50('));
  const times: number[] = [];
  const cpuStart = process.cpuUsage();
  for (let k = 0; k < 12; k++) {
    const edited = [...lines];
    edited[target + 3] = edited[target + 3]!.replace(/\* \d+ \+ y/, `* ${k + 10} + y`);
    const done = reported();
    t = performance.now();
    writeFileSync(file, edited.join('\n'));
    await done;
    times.push(performance.now() - t);
  }
  const cpuUsed = process.cpuUsage(cpuStart);
  controller.abort();
  await watching;
  // The same compile without the cache: what each edit cost before.
  const without: number[] = [];
  for (let k = 0; k < 5; k++) {
    t = performance.now();
    await compileFile(file, { format: true }, { out: () => {}, err: (l) => log(l) });
    without.push(performance.now() - t);
  }
  rmSync(dir, { recursive: true, force: true });
  const result = {
    lines: source.split('\n').length - 1,
    functions: 100,
    firstCompileMs,
    editMs: median(times),
    editCpuMs: (cpuUsed.user + cpuUsed.system) / 1000 / times.length,
    editWithoutCacheMs: median(without),
    edits: times.length,
  };
  log(`watch: one-line edit of a ${result.lines}-line file recompiled in ${ms(result.editMs)} (without the cache ${ms(result.editWithoutCacheMs)})`);
  return result;
}

// ---------------------------------------------------------------------------------------------

export interface ScaleResult {
  readonly text: string;
  readonly markdown: string;
  readonly json: unknown;
}

export async function benchScale(log: Log, options: { before?: string; compileSizes?: readonly number[]; replSizes?: readonly number[]; rounds?: number } = {}): Promise<ScaleResult> {
  const machine = `${os.cpus()[0]?.model ?? 'unknown'} (${os.cpus().length} cores), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, load average ${os.loadavg()[0]!.toFixed(1)} at the start`;
  const start = startup(log, options.before, options.rounds ?? 10);
  const compiles = compileTimes(log, options.compileSizes ?? [1_000, 10_000, 100_000], options.before);
  const shapes = shapeTimes(log, options.before);
  const repl = await replLines(log, options.replSizes ?? [10, 10_000]);
  const watch = await watchEdit(log);
  const chains = callChains(log);
  const speeds = chainSpeed(log);

  const startHead = ['command', 'fastest', 'median', 'CPU (mean)', 'over node -e 0', 'target (over node -e 0)', ...(options.before ? ['before (fastest)', 'before (CPU)'] : [])];
  const startBody = start.map((r) => [
    r.command,
    ms(r.minMs),
    ms(r.medianMs),
    r.cpuMs === undefined ? '—' : ms(r.cpuMs),
    r.command === 'node -e 0' ? '' : ms(r.overNodeMs),
    r.target === undefined ? '' : targetCell(r, start[0]!),
    ...(options.before ? [r.beforeMinMs === undefined ? '' : ms(r.beforeMinMs), r.beforeCpuMs === undefined ? '' : ms(r.beforeCpuMs)] : []),
  ]);
  const compileHead = ['statements', 'source', 'output', 'output / source', 'compileSync (wall)', 'CPU', 'µs per statement (wall)', 'µs per statement (CPU)', 'growth (CPU)', ...(options.before ? ['before: CPU', 'before: µs per statement (CPU)'] : [])];
  const compileBody = compiles.map((r, i) => [
    r.statements.toLocaleString('en-US'),
    `${(r.sourceBytes / 1e3).toFixed(0)} kB`,
    `${(r.outputBytes / 1e6).toFixed(2)} MB`,
    `${(r.outputBytes / r.sourceBytes).toFixed(2)}×`,
    ms(r.wallMs),
    ms(r.cpuMs),
    ((r.wallMs * 1000) / r.statements).toFixed(0),
    ((r.cpuMs * 1000) / r.statements).toFixed(0),
    i === 0 ? '' : `${(r.cpuMs / compiles[i - 1]!.cpuMs).toFixed(1)}× for ${(r.statements / compiles[i - 1]!.statements).toFixed(0)}×`,
    ...(options.before ? [r.before ? ms(r.before.cpuMs) : '', r.before ? ((r.before.cpuMs * 1000) / r.statements).toFixed(0) : ''] : []),
  ]);
  const shapeHead = ['shape', 'output', 'compileSync (wall)', 'CPU', ...(options.before ? ['before: CPU'] : [])];
  const shapeBody = shapes.map((r) => [r.shape, `${(r.outputBytes / 1e6).toFixed(2)} MB`, ms(r.wallMs), ms(r.cpuMs), ...(options.before ? [r.before ? ms(r.before.cpuMs) : 'not run (hours)'] : [])]);
  const replHead = ['definitions', 'loading them (one :load)', 'per line (median)', 'CPU per line (mean)', 'lines timed'];
  const replBody = repl.map((r) => [r.definitions.toLocaleString('en-US'), ms(r.loadMs), ms(r.perLineMs), ms(r.perLineCpuMs), String(r.lines)]);
  const watchHead = ['file', 'first compile', 'one-line edit (median)', 'CPU per edit (mean)', 'the same compile without the cache', 'edits timed'];
  const watchBody = [
    [`${watch.lines.toLocaleString('en-US')} lines, ${watch.functions} functions`, ms(watch.firstCompileMs), ms(watch.editMs), ms(watch.editCpuMs), ms(watch.editWithoutCacheMs), String(watch.edits)],
  ];
  const notes = [
    `Start-up: the fastest of ${options.rounds ?? 10} interleaved rounds (CPU: the mean user + system time of the child, from /proc/self/stat), each command spawned as \`node bin/adc.js …\` (the bundled dist/); "over node -e 0" subtracts the fastest \`node -e 0\` of the same rounds. The repl row pipes \`:quit\` (it loads the REPL and the compiler, then exits).`,
    `Compile: \`compileSync\` of the generated let chain (bench/chain.ts) by the built package (dist/index.js, what users run), each compile in a child process after a warm-up compile, the run with the least CPU of 3 (2 at 10,000, 1 at 100,000)${options.before ? ', the checkout before interleaved with this one' : ''}; CPU is user + system time of the process, which includes the garbage collector\'s threads. Other shapes: one compile each, the same way.`,
    'REPL: a Session holding that many definitions (`fn hK(x, y) = …`); each timed line is a definition calling one of them, an expression calling it, or a `grad`.',
    'Watch: `adc compile --watch` (debounce 0) on 100 ten-line functions; each edit changes a number in one line of f50; the time runs from the write to the output reported, fs.watch latency and prettier included.',
  ];
  const tables = [
    ['Start-up', startHead, startBody],
    ['Compile time per statement (generated let chains)', compileHead, compileBody],
    ['Compile time of other shapes (bench/shapes.ts)', shapeHead, shapeBody],
    ['REPL: time per line', replHead, replBody],
    ['Watch: a one-line edit', watchHead, watchBody],
    ['Call chains: output size and compile time (bench/call-chains.ts)', chainHead, chainBody(chains)],
    ['Call chains: run time of the value and fGrad (bench/call-chains.ts, interleaved medians)', chainSpeedHead, chainSpeedBody(speeds)],
  ] as const;
  const text = [`Scaling, measured on ${machine}:`, ...tables.flatMap(([title, h, b]) => ['', `${title}:`, textTable([...h], b.map((r) => [...r]))]), '', ...notes.map((n) => `- ${n}`)].join('\n');
  const markdown = [
    '<!-- Generated by `npm run bench -- --only scale` (bench/scale.ts). -->',
    `Measured on ${machine}.`,
    ...tables.flatMap(([title, h, b]) => ['', `${title}:`, '', markdownTable([...h], b.map((r) => [...r]))]),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  return { text, markdown, json: { machine, startup: start, compile: compiles, shapes, repl, watch, chains, chainSpeeds: speeds } };
}

/** `≤ 50 ms: met (wall), met (CPU)`: the target against the wall time and against the CPU time, each over node -e 0's. */
function targetCell(r: StartupRow, node: StartupRow): string {
  const met = (over: number) => (over <= r.target! ? 'met' : 'not met');
  const cpu = r.cpuMs !== undefined && node.cpuMs !== undefined ? `, ${met(r.cpuMs - node.cpuMs)} (CPU +${(r.cpuMs - node.cpuMs).toFixed(0)} ms)` : '';
  return `≤ ${r.target} ms: ${met(r.overNodeMs)} (wall)${cpu}`;
}

/** Writes bench/scale-results.md and .json. */
export function writeScaleResults(result: ScaleResult): void {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  writeFileSync(join(dir, 'scale-results.md'), result.markdown);
  writeFileSync(join(dir, 'scale-results.json'), JSON.stringify(result.json, null, 2) + '\n');
}
