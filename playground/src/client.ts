/**
 * The page's side of the worker: one request at a time per kind is answered in order, and a request
 * that takes longer than its time limit (a loop of 10⁹ steps) stops the worker, which is started anew.
 */
import type { Reply, Request } from './protocol.ts';

export class CompilerClient {
  private worker!: Worker;
  private next = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; timer: ReturnType<typeof setTimeout> }>();

  constructor() {
    this.start();
  }

  private start(): void {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (event: MessageEvent<{ id: number; reply: Reply }>) => {
      const entry = this.pending.get(event.data.id);
      if (!entry) return;
      clearTimeout(entry.timer);
      this.pending.delete(event.data.id);
      entry.resolve(event.data.reply);
    };
    this.worker.onerror = (event) => this.restart(`the worker failed: ${event.message}`);
  }

  /** Stops the worker and answers everything pending with `message`. */
  private restart(message: string): void {
    this.worker.terminate();
    for (const { resolve, timer } of this.pending.values()) {
      clearTimeout(timer);
      resolve({ kind: 'failed', message });
    }
    this.pending.clear();
    this.start();
  }

  request(request: Request, timeoutMs: number): Promise<Reply> {
    const id = this.next++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.restart(`stopped after ${timeoutMs / 1000} s (the worker was restarted)`), timeoutMs);
      this.pending.set(id, { resolve, timer });
      this.worker.postMessage({ id, request });
    });
  }
}
