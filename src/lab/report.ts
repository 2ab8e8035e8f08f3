/** report.json, report.html and the terminal table of a lab run. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReportHtml } from './report-html.js';
import { NOT_PLAYED } from './report-table.js';
import type { LabRun } from './run-lab.js';

export function reportJson(run: LabRun) {
  return {
    // A model run's report is a function of its inputs alone: no timestamp, so the same --seed repeats it.
    ...(run.engine === 'real' ? { generatedAt: new Date().toISOString() } : {}),
    workload: run.workload,
    settings: run.settings,
    timesIn: 'workload time (ms for *Ms fields, s for *Seconds and series.t)',
    notPlayed: NOT_PLAYED,
    engine: run.engine,
    /** False when any approach's run strayed past the tolerance from what it was asked to play. */
    reliable: run.results.every((r) => r.reliability.reliable),
    unreliable: run.results
      .filter((r) => !r.reliability.reliable)
      .map((r) => ({ approach: r.approach, reasons: r.reliability.reasons })),
    approaches: Object.fromEntries(
      run.results.map((r) => [
        r.approach,
        {
          ...r.figures,
          podsAtEnd: r.podsAtEnd,
          podsLeft: r.podsLeft,
          processesLeft: r.processesLeft,
          workerPids: r.workerPids,
          runSeconds: r.runSeconds,
          wallSeconds: r.wallSeconds,
          controllerErrors: r.controllerErrors,
          controller: r.stats,
          played: r.notes,
          reliability: r.reliability,
          series: r.series,
        },
      ]),
    ),
  };
}

/** Writes `<dir>/report.json` and `<dir>/report.html`; returns their paths. */
export function writeReports(dir: string, run: LabRun): string[] {
  mkdirSync(dir, { recursive: true });
  const json = reportJson(run);
  const files = [join(dir, 'report.json'), join(dir, 'report.html')];
  writeFileSync(files[0] as string, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(files[1] as string, renderReportHtml(json));
  return files;
}
