/** The package's own folder (dist/src/util → three levels up), for files that ship with it. */
import { fileURLToPath } from 'node:url';

export function packageRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}
