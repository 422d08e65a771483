/**
 * JSON as SRS writes it: compact, keys in insertion order, floats with
 * exactly two decimals (wrap them in Fixed2), integers as integers.
 */
import { Fixed2 } from '../ops/hooks/hook-bodies.js';

export { Fixed2 };

export function srsJson(value: unknown): string {
  if (value instanceof Fixed2) return Number.isFinite(value.value) ? value.value.toFixed(2) : '0.00';
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '0';
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(srsJson).join(',')}]`;
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined) continue;
      parts.push(`${JSON.stringify(k)}:${srsJson(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return 'null';
}
