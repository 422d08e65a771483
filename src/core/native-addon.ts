/**
 * Loads one of the optional native addons under native/ (built by `npm install`
 * with node-gyp, scripts/build-native.mjs). Optional means: when it is missing
 * or fails to load, the caller gets the reason and uses its JavaScript path.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type NativeAddon<T> = { binding: T } | { error: string };

/** `file` is relative to the package root, e.g. native/tcp-writer/build/Release/sluice_tcp_writer.node. */
export function loadNativeAddon<T>(file: string): NativeAddon<T> {
  // From src/core or dist/src/core up to the package root.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6 && !existsSync(join(dir, file)); i++) dir = dirname(dir);
  const path = join(dir, file);
  if (!existsSync(path)) return { error: 'not built (npm install builds it with node-gyp; see the install log)' };
  try {
    return { binding: createRequire(import.meta.url)(path) as T };
  } catch (err) {
    return { error: `failed to load: ${(err as Error).message.slice(0, 200)}` };
  }
}
