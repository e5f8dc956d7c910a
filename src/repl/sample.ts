import { Worker } from 'node:worker_threads';

/** What `sampleInWorker` computes: the range's ends, then (for a valid range) the points. */
export type Sampled =
  | { readonly kind: 'range'; readonly from: number; readonly to: number }
  | { readonly kind: 'samples'; readonly from: number; readonly to: number; readonly xs: number[]; readonly values: number[]; readonly slopes: number[] }
  | { readonly kind: 'stopped'; readonly why: 'interrupted' | 'timeout' }
  | { readonly kind: 'failed'; readonly message: string };

export interface SampleJob {
  /** The compiled module (ES module source) with the three functions below. */
  readonly code: string;
  readonly lo: string;
  readonly hi: string;
  /** The gradient function of the plotted expression, and the variable's key in its gradient. */
  readonly grad: string;
  readonly variable: string;
  readonly count: number;
  /** The values bound at the prompt, passed to the range's ends, and to the plotted function after x. */
  readonly ends: readonly unknown[];
  readonly others: readonly unknown[];
}

/**
 * The plotted function runs in a worker thread: the REPL stays responsive while it runs, so Ctrl+C
 * (an aborted `signal`) or the time limit can stop it even inside one endless call (a `sum` over a
 * huge range). Starting a worker costs tens of milliseconds, once per plot.
 */
export function sampleInWorker(job: SampleJob, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Sampled> {
  const { signal, timeoutMs = 20_000 } = options;
  if (signal?.aborted) return Promise.resolve({ kind: 'stopped', why: 'interrupted' });
  return new Promise((resolve) => {
    // An ES module given as a data: URL, with none of this process's flags (loaders, --input-type).
    const worker = new Worker(new URL(`data:text/javascript;base64,${Buffer.from(workerSource).toString('base64')}`), { workerData: job, execArgv: [] });
    let settled = false;
    const finish = (result: Sampled) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      resolve(result);
    };
    const onAbort = () => finish({ kind: 'stopped', why: 'interrupted' });
    const timer = setTimeout(() => finish({ kind: 'stopped', why: 'timeout' }), timeoutMs);
    signal?.addEventListener('abort', onAbort);
    worker.on('message', (message: Sampled) => finish(message));
    worker.on('error', (error) => finish({ kind: 'failed', message: error.message }));
    worker.on('exit', () => finish({ kind: 'failed', message: 'the plot stopped without an answer' }));
  });
}

/**
 * The worker (given as text, so it needs no file of its own beside the built one): imports the module, checks
 * the range, and samples `count` evenly spaced points. `to − from` overflows for a range like
 * -1e308..1e308, so then each x is a weighted mean of the ends, which cannot.
 */
const workerSource = `
import { parentPort, workerData as job } from 'node:worker_threads';

function sample(module, from, to) {
  const n = job.count;
  const span = to - from;
  const at = (t) => (Number.isFinite(span) ? from + span * t : from * (1 - t) + to * t);
  const xs = [], values = [], slopes = [];
  for (let i = 0; i < n; i++) {
    const x = i === n - 1 ? to : at(i / (n - 1));
    const r = module[job.grad](x, ...job.others);
    xs.push(x);
    values.push(r.value);
    slopes.push(r.gradient[job.variable]);
  }
  return { kind: 'samples', from, to, xs, values, slopes };
}

try {
  const module = await import('data:text/javascript;base64,' + Buffer.from(job.code, 'utf8').toString('base64'));
  const from = module[job.lo](...job.ends);
  const to = module[job.hi](...job.ends);
  const valid = Number.isFinite(from) && Number.isFinite(to) && from < to;
  parentPort.postMessage(valid ? sample(module, from, to) : { kind: 'range', from, to });
} catch (e) {
  parentPort.postMessage({ kind: 'failed', message: String(e && e.message ? e.message : e) });
}
`;
