import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { dropUndefined } from '../../src/tools/lib/drop-undefined.js';

const roundTrip = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe('dropUndefined (a tool output as its JSON carries it, without the JSON round trip)', () => {
  it('gives what JSON.parse(JSON.stringify()) gives for the shapes tools return', () => {
    const samples = [
      { a: undefined, b: 1, c: 'x', d: null, e: false },
      { nested: { kept: 'yes', gone: undefined, deeper: [{ amount: -0, note: undefined }, { amount: 5 }] } },
      { list: [1, undefined, 'two', null, { x: undefined }], empty: [], none: {} },
      { total: -0, balance: -250 },
      [undefined, { a: undefined }],
    ];
    for (const sample of samples) {
      const expected = roundTrip(sample);
      const result = dropUndefined(structuredClone(sample));
      expect(result).toStrictEqual(expected);
      // Same text on the wire, member order included.
      expect(JSON.stringify(result)).toBe(JSON.stringify(expected));
      expect(Object.is((result as { total?: number }).total, -0)).toBe(false);
    }
  });

  it('copies nothing when there is nothing to drop', () => {
    const invoice = { id: 'in_1', amount: { amount: 1200, currency: 'usd', formatted: '$12.00' } };
    const output = { invoices: [invoice], more_available: false };
    const result = dropUndefined(output);
    expect(result).toBe(output);
    expect(result.invoices[0]).toBe(invoice);
  });

  it('leaves out the undefined members zod keeps from a handler', () => {
    const schema = z.object({ plan: z.string(), trial_end: z.string().optional(), items: z.array(z.object({ note: z.string().optional() })) });
    const output = dropUndefined(schema.parse({ plan: 'Pro', trial_end: undefined, items: [{ note: undefined }], secret: 'not declared' }));
    expect(Object.keys(output)).toEqual(['plan', 'items']);
    expect(Object.keys(output.items[0]!)).toEqual([]);
  });
});
