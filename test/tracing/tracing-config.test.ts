/** When traces are on, and the OpenTelemetry variables kq refuses, with messages naming variable, value and rule. */
import { describe, expect, it } from 'vitest';
import { tracingConfig, tracingWanted } from '../../src/tracing/load-tracing.js';
import { spawnKq } from '../helpers/kq-process.js';

const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

describe('tracing configuration', () => {
  it('is on only with an OTLP endpoint, and OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none turn it off', () => {
    expect(tracingWanted({})).toBe(false);
    expect(tracingWanted(endpoint)).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toBe(true);
    expect(tracingWanted({ ...endpoint, OTEL_SDK_DISABLED: 'TRUE' })).toBe(false);
    expect(tracingWanted({ ...endpoint, OTEL_SDK_DISABLED: 'false' })).toBe(true);
    expect(tracingWanted({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });

  it('reads the defaults and the standard variables', () => {
    expect(tracingConfig({}, 'kq-api')).toEqual({
      protocol: 'http/protobuf',
      serviceName: 'kq-api',
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
      maxQueueSize: 2048,
      scheduleDelayMs: 5000,
    });
    expect(
      tracingConfig(
        {
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
          OTEL_SERVICE_NAME: 'ingest',
          OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
          OTEL_TRACES_SAMPLER_ARG: '0.25',
          OTEL_BSP_MAX_QUEUE_SIZE: '100',
          OTEL_BSP_SCHEDULE_DELAY: '200',
        },
        'kq-api',
      ),
    ).toEqual({
      protocol: 'http/json',
      serviceName: 'ingest',
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
      maxQueueSize: 100,
      scheduleDelayMs: 200,
    });
  });

  it.each([
    [
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      /OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported: use http\/protobuf or http\/json/,
    ],
    [{ OTEL_TRACES_SAMPLER: 'sometimes' }, /OTEL_TRACES_SAMPLER: "sometimes" must be one of always_on/],
    [
      { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' },
      /OTEL_TRACES_SAMPLER_ARG: "2" must be a number from 0 to 1/,
    ],
    [{ OTEL_BSP_MAX_QUEUE_SIZE: '0' }, /OTEL_BSP_MAX_QUEUE_SIZE: "0" must be a whole number of at least 1/],
  ])('refuses %o', (env, message) => {
    expect(() => tracingConfig(env, 'kq-worker')).toThrow(message);
  });

  it('kq worker refuses a bad variable at start (exit 2), naming it', async () => {
    const w = spawnKq(['worker'], {
      ...endpoint,
      OTEL_TRACES_SAMPLER: 'sometimes',
      HEALTH_PORT: '0',
      QUEUE: 'unused',
    });
    expect((await w.waitForExit(20_000)).code).toBe(2);
    expect(w.output()).toContain('Invalid OTEL_TRACES_SAMPLER: "sometimes"');
  });
});
