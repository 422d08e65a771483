import { ConfigError, parseConfigTree } from '../../src/config/parser.js';
import { repoDir, repoText } from '../corpus.js';
import { type FuzzTarget } from '../harness.js';

/** The shipped sample configs, plus one with includes (served from memory below). */
function corpus(): Buffer[] {
  const out = repoDir('conf')
    .filter((n) => n.endsWith('.conf'))
    .map((n) => Buffer.from(repoText(`conf/${n}`)));
  out.push(Buffer.from('include a.conf;\nvhost x { include b.conf; hls { enabled on; } }\n# c\nlisten 1935 "quoted ; {";\n'));
  return out;
}

const INCLUDES: Record<string, string> = { '/x/a.conf': 'listen 1936;', '/x/b.conf': 'include a.conf;' };

export const config: FuzzTarget = {
  name: 'config',
  errors: [ConfigError],
  corpus,
  run(input) {
    // The config is read from a file; a reload can bring any bytes. Includes resolve from memory, never the disk.
    parseConfigTree(input.toString('utf8'), '/x/main.conf', { readInclude: (p) => INCLUDES[p] ?? null, cwd: '/x' });
  },
};
