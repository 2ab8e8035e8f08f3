/**
 * `kq/client` runs in browsers and edge runtimes: once compiled it imports nothing (kq's modules are
 * imported for their types only) and uses no Node global. Checked on the source as tsc compiles it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const source = readFileSync(resolve(import.meta.dirname, '../../src/client/client.ts'), 'utf8');

describe('kq/client runtime surface', () => {
  it('compiles to a module with no imports and no Node-only globals', () => {
    const js = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        removeComments: true,
      },
    }).outputText;
    expect(js).toContain('export function createClient');
    expect(js).not.toMatch(/^\s*import\b|\bimport\(|\brequire\(/m);
    for (const nodeOnly of ['process', 'Buffer', '__dirname', 'node:', 'global.', 'setImmediate']) {
      expect(js, nodeOnly).not.toContain(nodeOnly);
    }
  });
});
