/** parseOptions: flags over env over defaults, and errors that name the option, the value and the rule. */
import { describe, expect, it } from 'vitest';
import { apiOptionSpecs } from '../../src/api/options.js';
import { boolOption, intOption, parseOptions, stringOption } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

const specs = {
  count: intOption('count', ['COUNT', 'OLD_COUNT'], 3, 1, 10, 'how many'),
  loud: boolOption('loud', ['LOUD'], false, 'shout'),
  name: stringOption('name', [], 'x', 'a name', { re: /^[a-z]+$/, rule: 'must be lowercase letters' }),
};

describe('parseOptions', () => {
  it('takes a flag over the first set env var over the default; empty env counts as unset', () => {
    expect(parseOptions(specs, [], {}).values).toEqual({ count: 3, loud: false, name: 'x' });
    expect(parseOptions(specs, [], { OLD_COUNT: '5' }).values.count).toBe(5);
    expect(parseOptions(specs, [], { COUNT: '', OLD_COUNT: '6' }).values.count).toBe(6);
    expect(parseOptions(specs, ['--count', '7'], { COUNT: '5' }).values.count).toBe(7);
    expect(parseOptions(specs, ['--count=8', '--loud'], {}).values).toMatchObject({ count: 8, loud: true });
    expect(parseOptions(specs, ['--no-loud'], { LOUD: '1' }).values.loud).toBe(false);
    expect(parseOptions(specs, ['--help'], {}).help).toBe(true);
  });

  it('names the option, the value and the rule when a value breaks it', () => {
    const err = (() => {
      try {
        parseOptions(specs, [], { COUNT: '11' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.message).toMatch(/COUNT.*"11" must be a whole number from 1 to 10/);
    expect(err?.details).toMatchObject({ option: 'count', value: '11' });
    expect(() => parseOptions(specs, ['--name', 'A'], {})).toThrow(/"A" must be lowercase letters/);
    expect(() => parseOptions(specs, ['--nope'], {})).toThrow(
      /Unknown option --nope\. Known options: --count/,
    );
    expect(() => parseOptions(specs, ['--count'], {})).toThrow(/--count needs a value/);
    expect(() => parseOptions(specs, ['extra'], {})).toThrow(/Unexpected argument "extra"/);
  });

  it('tokenises as before: =values, --no- on booleans only, values that look like flags, -words, --', () => {
    const p = (argv: string[], n = 5) => parseOptions(specs, argv, {}, n);
    expect(p(['--loud=0']).values.loud).toBe(false);
    expect(p(['--no-loud=1']).values.loud).toBe(true);
    expect(() => p(['--name='])).toThrow(/--name: "" must be lowercase letters/);
    // A boolean takes no value from the next word; a string option takes the next word, even '-h'.
    expect(p(['--loud', 'word'])).toMatchObject({ values: { loud: true }, positionals: ['word'] });
    expect(() => p(['--name', '-h'])).toThrow(/"-h" must be lowercase letters/);
    expect(() => p(['--count', '--loud'])).toThrow(/Option --count needs a value: it must be a whole number/);
    expect(() => p(['--no-count'])).toThrow(/Unknown option --no-count\./);
    expect(() => p(['--no-nope'])).toThrow(/Unknown option --no-nope\./);
    // Single-dash words and everything after `--` are arguments, in order.
    expect(p(['-1', 'a', '-xy', '--', '--count', '-h']).positionals).toEqual([
      '-1',
      'a',
      '-xy',
      '--count',
      '-h',
    ]);
    expect(p(['-h']).help).toBe(true);
    expect(p(['--count', '2', '--count=4']).values.count).toBe(4);
  });

  it("the API's QUEUE_PATTERN: anchored, 'none' = no new queues, an invalid expression is refused", () => {
    const p = (v: string) => parseOptions(apiOptionSpecs, [], { QUEUE_PATTERN: v }).values.queuePattern;
    expect(p('none')).toBeNull();
    expect(p('orders-.*')?.test('orders-eu')).toBe(true);
    expect(p('orders-.*')?.test('x-orders-eu')).toBe(false);
    expect(() => p('(')).toThrow(/QUEUE_PATTERN.*must be a valid regular expression/);
    const d = parseOptions(apiOptionSpecs, [], {}).values;
    expect(d.queuePattern?.test('jobs')).toBe(true);
    expect([d.maxQueues, d.maxInflightJobs, d.maxInflightBytes, d.shutdownDrainMs]).toEqual([
      1000, 5000, 16_777_216, 5000,
    ]);
  });

  it("the API's INGEST_COALESCING: on by default, off on request, anything else refused naming the values", () => {
    const p = (env: Record<string, string>, argv: string[] = []) =>
      parseOptions(apiOptionSpecs, argv, env).values.ingestCoalescing;
    expect(p({})).toBe('on');
    expect(p({ INGEST_COALESCING: 'off' })).toBe('off');
    expect(p({}, ['--ingest-coalescing', 'off'])).toBe('off');
    expect(() => p({ INGEST_COALESCING: 'maybe' })).toThrow(/INGEST_COALESCING.*maybe.*on.*off/s);
  });
});
