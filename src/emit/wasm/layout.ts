/**
 * Where things live in the module's one linear memory (the same layout for every function):
 *
 *   0 .. resultBytes            the result area: the function writes its value, its gradient's
 *                               numbers and each array result's (address, length, rows) here
 *   argumentBase .. heap start  the array arguments, copied in by the glue once per call (each
 *                               16-byte aligned, a matrix row after row)
 *   heap start ..               work arrays and the arrays returned, allocated by the function
 *                               itself (a bump pointer in a global, reset by every call)
 *
 * Nothing is freed: every call starts again at the same addresses, so memory is reused between
 * calls and grows (memory.grow, by the glue for arguments or by the function for its arrays) only
 * to the largest call seen.
 */

/** The result area's start. */
export const resultAddress = 0;

/** Arrays start at multiples of 16 bytes (one v128). */
export const alignment = 16;

/** The global holding the heap pointer (the next free byte). */
export const heapGlobal = 0;

/** The import (module `adc`) that throws when the memory cannot grow. */
export const outOfMemoryImport = 'outOfMemory';

/** The first argument's address when the largest result area has `slots` numbers. */
export function argumentBase(slots: number): number {
  return Math.ceil((slots * 8) / alignment) * alignment || alignment;
}
