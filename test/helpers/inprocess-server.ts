/**
 * Starts the embeddable server (SluiceServer) in this process on fresh ports,
 * and starts it again on others when one was taken between picking and
 * binding (another process on a busy machine).
 */
import { pino } from 'pino';
import { SluiceServer } from '../../src/main/sluice-server.js';
import type { ServerContextOptions } from '../../src/core/server-context.js';
import { parseConfigText } from '../../src/config/server-config.js';
import { fillPorts, isBindConflict, BIND_ATTEMPTS } from './ports.js';

export interface InProcessServer {
  server: SluiceServer;
  /** The port of one `{{NAME}}` placeholder (`RTC` is UDP). */
  port(name: string): number;
}

/** `template` is a config with `{{NAME}}` placeholders for its ports (see `fillPorts`). */
export async function startInProcess(template: string, options: ServerContextOptions = {}): Promise<InProcessServer> {
  for (let attempt = 1; ; attempt++) {
    const { text, ports } = await fillPorts(template);
    // The WebRTC UDP port is not a start failure (the server answers 5021 and runs on): its error line says it.
    let udpTaken = false;
    const logger = pino({ level: 'error' }, {
      write(line: string): void {
        if (line.includes('WebRTC UDP port unavailable')) udpTaken = true;
      },
    });
    const server = new SluiceServer({ config: parseConfigText(text, 'test.conf', {}), logger, ...options });
    let conflict: boolean;
    try {
      await server.start();
      conflict = udpTaken;
    } catch (err) {
      if (!isBindConflict(err)) {
        await server.stop();
        throw err;
      }
      conflict = true;
    }
    if (!conflict) {
      return {
        server,
        port(name) {
          const p = ports.get(name);
          if (p === undefined) throw new Error(`the config has no {{${name}}} port`);
          return p;
        },
      };
    }
    await server.stop();
    if (attempt === BIND_ATTEMPTS) throw new Error(`server could not bind its ports in ${BIND_ATTEMPTS} attempts`);
  }
}
