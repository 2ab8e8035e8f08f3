/**
 * kq reaches into another library's private fields, methods, symbols or keys only in the one
 * `<library>-internals.ts` file per library (pinned, with a contract test): a grep of src/ finds none
 * of them anywhere else.
 */
import { describe, expect, it } from 'vitest';
import { sourceFiles } from './source-files.js';

/** What would mean kq depends on a library's internals, per library. */
const PRIVATE: Record<string, RegExp[]> = {
  pino: [
    /\bpino\.symbols\b/,
    /\b(streamSym|chindingsSym|serializersSym|formattersSym|stringifySym|stringifiersSym|messageKeySym|writeSym|needsMetadataGsym)\b/,
    // Patching a logger method instead of using pino's options.
    /\.(child|info|write)\s*=[^=>]/,
    // The blocking write path pino's destination replaces.
    /\bAtomics\.wait\b/,
  ],
  'prom-client': [/\b(hashMap|bucketValues|upperBounds|sortedLabelNames)\b/],
  ioredis: [
    /\bfailoverDetector\s*(\?\.|\.|=[^=])/,
    /\b(isDisconnected|sentinelIterator|retryAttempts)\b/,
    /\.connecting\b/,
  ],
  bullmq: [
    /\bmoveStalledJobsToWait\b/,
    /stalled-check/,
    // The stalled set's key (the `stalled` event is public).
    /\}stalled\b|:stalled\b/,
    /\.(blockingConnection|stalledCheckerPromise)\b/,
  ],
};

const isInternalsFile = (path: string) => /(^|\/)[\w-]*internals\.ts$/.test(path);

describe('no private access outside the internals files', () => {
  const files = sourceFiles();

  it('finds the source files, and each pattern finds its use in the internals files', () => {
    expect(files.length).toBeGreaterThan(50);
    // The patterns are live: the internals files are where these uses are.
    const internals = files
      .filter((f) => isInternalsFile(f.path))
      .map((f) => f.text)
      .join('\n');
    expect(PRIVATE.bullmq?.[0]?.test(internals)).toBe(true);
    expect(PRIVATE.ioredis?.[0]?.test(internals)).toBe(true);
  });

  for (const [library, patterns] of Object.entries(PRIVATE)) {
    it(`${library}: none outside its internals file`, () => {
      const hits: string[] = [];
      for (const f of files) {
        if (isInternalsFile(f.path)) continue;
        f.text.split('\n').forEach((line, i) => {
          for (const re of patterns) if (re.test(line)) hits.push(`${f.path}:${i + 1}: ${line.trim()}`);
        });
      }
      expect(hits).toEqual([]);
    });
  }
});
