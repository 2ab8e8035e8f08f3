/** The worker's options: one declaration each, shared by `kq worker`, the container env and the docs. */
import {
  boolOption,
  intOption,
  type OptionValues,
  prefixOption,
  queueOption,
  redisAuthOptions,
  redisLivenessOption,
  redisUrlOption,
  stringOption,
} from '../config.js';

export const workerOptionSpecs = {
  redisUrl: redisUrlOption(),
  ...redisAuthOptions(),
  redisLivenessTimeoutMs: redisLivenessOption(),
  queue: queueOption(),
  prefix: prefixOption(),
  concurrency: intOption('concurrency', ['CONCURRENCY'], 1, 1, 1000, 'jobs run at once by this process'),
  exitWhenEmpty: boolOption(
    'exit-when-empty',
    ['EXIT'],
    false,
    'exit 0 once nothing is waiting or due and own jobs are done (CronJob mode)',
  ),
  maxJobs: intOption(
    'max-jobs',
    ['MAX_JOBS'],
    0,
    0,
    1_000_000_000,
    'exit 0 after this many jobs; 0 = no limit',
  ),
  shutdownTimeoutMs: intOption(
    'shutdown-timeout-ms',
    ['SHUTDOWN_TIMEOUT_MS'],
    25_000,
    0,
    86_400_000,
    'on SIGTERM, exit within this long, whatever Redis does: running jobs get it less a hand-back reserve (min(2 s, half)), then are handed back',
  ),
  lockDurationMs: intOption(
    'lock-duration-ms',
    ['LOCK_DURATION_MS'],
    30_000,
    1000,
    3_600_000,
    'job lock lifetime (renewed at half); a killed worker’s jobs return after about this long',
  ),
  maxStalledCount: intOption(
    'max-stalled-count',
    ['MAX_STALLED_COUNT'],
    3,
    0,
    1000,
    'times a job may lose its worker (crash, kill) before it is failed',
  ),
  redisDownTimeoutMs: intOption(
    'redis-down-timeout-ms',
    ['REDIS_DOWN_TIMEOUT_MS'],
    10_000,
    100,
    3_600_000,
    'exit mode: exit 1 when Redis stays unreachable this long',
  ),
  healthPort: intOption(
    'health-port',
    ['HEALTH_PORT'],
    8081,
    0,
    65535,
    'port of /healthz, /readyz, /metrics; 0 = off',
  ),
  k8sJobName: stringOption(
    'k8s-job-name',
    ['K8S_JOB_NAME'],
    '',
    'one-job-per-pod mode (MAX_JOBS): the Kubernetes Job this pod runs for; its replacement pod takes back the job a killed pod held at once',
    {
      re: /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)?$/,
      rule: 'must be a Kubernetes object name (lower case, digits, - and .)',
    },
  ),
  handlers: stringOption(
    'handlers',
    ['HANDLERS'],
    '',
    'JavaScript module exporting job definitions; empty = demo jobs',
  ),
};

export type WorkerOptions = OptionValues<typeof workerOptionSpecs>;
