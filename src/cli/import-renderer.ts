/**
 * Commands that render manifests (`kq manifests`, `kq lab`) load kubernetes-models, which the container
 * image leaves out (a pod never renders manifests, and it is 20 MB): there they say where to run instead.
 */
import { ConfigError } from '../errors.js';

/** @example const k8s = await importRenderer('manifests', () => import('../k8s/render.js')); */
export async function importRenderer<T>(command: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' || !/kubernetes-models/.test(String(err))) throw err;
    throw new ConfigError(
      'needs the package kubernetes-models, which this install leaves out (the container image omits it ' +
        `to stay small). Run \`npx kq ${command} ...\` where kq is installed with all its dependencies, or ` +
        `\`npm run build && node dist/cli.js ${command} ...\` in a checkout.`,
      { option: command },
      { cause: err },
    );
  }
}
