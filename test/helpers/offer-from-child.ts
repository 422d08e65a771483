/**
 * A real libdatachannel offer (receive-only H.264 video, all candidates
 * gathered), made in a child process. A node-datachannel peer in the test's own
 * process keeps Node alive after it is closed (until the library-wide
 * `cleanup()`, which must not run while an in-process server still has its
 * peers), so tests that only need an offer's text take it from a process of
 * its own, which cleans up and exits.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import ndc from 'node-datachannel';
import { localOffer } from './rtc-ndc-client.js';

const SELF = fileURLToPath(import.meta.url);

export function recvOnlyOfferFromChild(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [SELF], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`offer child failed: ${err.message} ${stderr.slice(0, 500)}`));
      else if (!stdout.startsWith('v=0')) reject(new Error(`offer child printed no SDP: ${stdout.slice(0, 200)}`));
      else resolve(stdout);
    });
  });
}

async function printOffer(): Promise<void> {
  const pc = new ndc.PeerConnection('offer', { iceServers: [] });
  const v = new ndc.Video('0', 'RecvOnly');
  v.addH264Codec(102, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f');
  const track = pc.addTrack(v);
  process.stdout.write(await localOffer(pc));
  track.close();
  pc.close();
  ndc.cleanup();
}

if (process.argv[1] === SELF) await printOffer();
