// Preload (`node --import`) for bench/cold-start-instructions.mjs: the worker process ends right after its
// first handler stamp (the first write to fd 3), so a count over the whole process covers start -> first
// handler and nothing after. `process.reallyExit` is the exit without JavaScript exit handlers: kq's and
// BullMQ's shutdown work would otherwise land in the count.
import fs from 'node:fs';
import module from 'node:module';

const writeSync = fs.writeSync;
fs.writeSync = function exitAfterStamp(fd, ...rest) {
  const written = writeSync.call(this, fd, ...rest);
  if (fd === 3) process.reallyExit(0);
  return written;
};
// `import { writeSync } from 'node:fs'` (both workers' stamp handlers) sees the wrapper too.
module.syncBuiltinESMExports();
