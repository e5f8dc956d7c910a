/**
 * A Vitest reporter that runs after the default one and lists, under its summary, each test skipped
 * with a reason (`context.skip(reason)`), so a skipped browser test is not mistaken for a passing
 * one. Tests skipped without a reason (`it.skip`, `.todo`) are left to the default reporter's count.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SkippedReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const reasons = new Map<string, number>();
    for (const module of testModules) {
      for (const test of module.children.allTests('skipped')) {
        const result = test.result();
        const note = result.state === 'skipped' ? result.note : undefined;
        if (note === undefined) continue;
        const key = `${module.relativeModuleId}: ${note}`;
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
      }
    }
    for (const [key, count] of reasons) console.log(`  Skipped ${count} ${count === 1 ? 'test' : 'tests'} in ${key}`);
  }
}
