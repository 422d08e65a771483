import net from 'node:net';
import dgram from 'node:dgram';

/**
 * A TCP port that was free a moment ago (the OS picks it). Another process may
 * take it before the server binds it: use it only through `fillPorts` and a
 * start that retries on a bind conflict (`startServer`, `startInProcess`).
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** True when something accepts a TCP connection on 127.0.0.1:port. */
export function acceptsTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A UDP port that was free a moment ago (a free TCP port says nothing about UDP). */
export async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '0.0.0.0', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/** Placeholders that name a UDP port; every other `{{NAME}}` is a TCP port. */
const UDP_PLACEHOLDERS = new Set(['RTC', 'SRT', 'CASTER']);

/**
 * Replaces every `{{NAME}}` in a config template by a fresh port (the same
 * port for each occurrence of one name); returns the text and the ports.
 */
export async function fillPorts(template: string): Promise<{ text: string; ports: Map<string, number> }> {
  const ports = new Map<string, number>();
  const used = new Set<number>();
  for (const m of template.matchAll(/\{\{([A-Z_]+)\}\}/g)) {
    const name = m[1]!;
    if (ports.has(name)) continue;
    let port: number;
    // Two names must not get one port (the OS may hand the same free port out twice).
    do port = UDP_PLACEHOLDERS.has(name) ? await freeUdpPort() : await freePort();
    while (used.has(port));
    used.add(port);
    ports.set(name, port);
  }
  const text = template.replace(/\{\{([A-Z_]+)\}\}/g, (_all, name: string) => String(ports.get(name)));
  return { text, ports };
}

/** True when an error (or a log line's err) says a listen port was taken. */
export function isBindConflict(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown };
  return e.code === 'EADDRINUSE' || (typeof e.message === 'string' && /EADDRINUSE/.test(e.message));
}

/** How many times a start is retried with fresh ports after a bind conflict. */
export const BIND_ATTEMPTS = 5;

/** Waits until something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
