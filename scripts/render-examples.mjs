/**
 * Writes deploy/your-jobs (src/k8s/kustomize.ts, `exampleFiles`): the `deployment` approach for an
 * application's own image, as `kq manifests deployment --image <placeholder> --handlers dist/jobs.js`
 * renders it in a project made by `kq init`. Run by `npm run manifests`, after the build.
 */
import { resolve } from 'node:path';
import { writeExamples } from '../dist/k8s/kustomize.js';

for (const file of writeExamples(resolve(import.meta.dirname, '../deploy')))
  process.stderr.write(`wrote ${file}\n`);
